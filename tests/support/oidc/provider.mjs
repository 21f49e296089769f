// A real OpenID provider (oidc-provider) for the auth tests: one registered client with PKCE required,
// login and consent approved automatically for the account named by `login_hint`, Google-shaped userinfo.
//
// Environment: OIDC_PREFIX (the npm prefix oidc-provider is installed under), CLIENT_ID, CLIENT_SECRET,
// REDIRECT_URI (a loopback URI; as a native client any port is accepted).
// Prints one JSON line {"issuer", "auth", "token", "userinfo"} once listening; exits when stdin closes.
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const resolved = createRequire(path.join(process.env.OIDC_PREFIX, 'package.json')).resolve('oidc-provider');
const { default: Provider } = await import(pathToFileURL(resolved).href);

const accounts = {
  'verified@example.test': {
    sub: 'user-verified', email: 'verified@example.test', email_verified: true,
    name: 'Vera <Verified> & Co', picture: 'https://example.test/vera.png',
  },
  'unverified@example.test': {
    sub: 'user-unverified', email: 'unverified@example.test', email_verified: false,
    name: 'Una Unverified', picture: 'https://example.test/una.png',
  },
};

const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: process.env.CLIENT_ID,
    client_secret: process.env.CLIENT_SECRET,
    application_type: 'native',
    redirect_uris: [process.env.REDIRECT_URI],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'picture'] },
  cookies: { keys: ['anyon-test-cookie-key'] },
  async findAccount(ctx, id) {
    const account = Object.values(accounts).find((candidate) => candidate.sub === id);
    return account && { accountId: id, claims: async () => ({ ...account }) };
  },
});

// The interaction: "deny" refuses, a known login_hint signs that account in, consent grants what was asked.
async function interact(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { prompt, params, session } = details;
  let result;
  if (params.login_hint === 'deny') {
    result = { error: 'access_denied', error_description: 'the person declined' };
  } else if (prompt.name === 'login') {
    const account = accounts[params.login_hint];
    result = account
      ? { login: { accountId: account.sub } }
      : { error: 'access_denied', error_description: 'unknown login_hint' };
  } else {
    const grant = new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
    if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
    result = { consent: { grantId: await grant.save() } };
  }
  await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
}

const callback = provider.callback();
server.on('request', (req, res) => {
  if (req.url.startsWith('/interaction/')) {
    interact(req, res).catch((error) => {
      res.statusCode = 500;
      res.end(String(error));
    });
  } else {
    callback(req, res);
  }
});

process.stdout.write(JSON.stringify({
  issuer,
  auth: `${issuer}/auth`,
  token: `${issuer}/token`,
  userinfo: `${issuer}/me`,
}) + '\n');
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
