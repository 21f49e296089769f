-- The auth server: people who signed in (keyed by the provider's `sub`), their plan, their settings
-- (JSON values) and the ids of tokens revoked before they expire.
CREATE TABLE users (
    sub            TEXT PRIMARY KEY NOT NULL,
    email          TEXT NOT NULL,
    email_verified INTEGER NOT NULL DEFAULT 0,
    name           TEXT,
    picture        TEXT,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);

CREATE TABLE subscriptions (
    sub        TEXT PRIMARY KEY NOT NULL REFERENCES users(sub) ON DELETE CASCADE,
    plan       TEXT NOT NULL,
    status     TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE user_settings (
    sub        TEXT NOT NULL REFERENCES users(sub) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (sub, key)
);

CREATE TABLE revoked_tokens (
    jti TEXT PRIMARY KEY NOT NULL,
    exp INTEGER NOT NULL
);
