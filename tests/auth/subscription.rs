//! Plan changes: only an admin credential or, in serve mode, a signed webhook changes a plan.

use serde_json::{Value, json};

use super::{ADMIN, Reply, Server, raw};
use anyon::domain::auth_server::{self as auth, AuthConfig, Mode};

#[test]
fn only_an_authoritative_caller_changes_a_plan() {
    let server = Server::new();
    let alice = server.user("alice");
    let body = json!({"sub": "alice", "plan": "pro"});
    // A user cannot grant themselves a plan.
    server
        .request("POST", "/auth/subscription", Some(&alice), Some(&body))
        .assert_error(403, "forbidden");
    server
        .request("POST", "/auth/subscription", None, Some(&body))
        .assert_error(403, "forbidden");
    server
        .request(
            "POST",
            "/auth/subscription",
            Some("admin-credential-for-testz"),
            Some(&body),
        )
        .assert_error(403, "forbidden");
    assert_eq!(
        server.request("GET", "/auth/me", Some(&alice), None).json()["subscription"]["plan"],
        "free"
    );
    let changed = server.request("POST", "/auth/subscription", Some(ADMIN), Some(&body));
    assert_eq!(changed.status, 200, "{changed:?}");
    assert_eq!(changed.json()["subscription"]["plan"], "pro");
    assert_eq!(
        server.request("GET", "/auth/me", Some(&alice), None).json()["subscription"]["plan"],
        "pro"
    );
    server
        .request(
            "POST",
            "/auth/subscription",
            Some(ADMIN),
            Some(&json!({"sub": "nobody", "plan": "pro"})),
        )
        .assert_error(404, "not_found");
    server
        .request(
            "POST",
            "/auth/subscription",
            Some(ADMIN),
            Some(&json!({"sub": "alice"})),
        )
        .assert_error(400, "bad_request");

    // Without an admin credential configured, nobody changes plans.
    let closed = Server::start(Mode::Embedded, 0, None);
    closed
        .request("POST", "/auth/subscription", Some(ADMIN), Some(&body))
        .assert_error(403, "forbidden");
}

/// Posts `body` to /auth/subscription with webhook headers (and a bearer token when given).
fn webhook(
    server: &Server,
    body: &Value,
    timestamp: Option<i64>,
    signature: Option<&str>,
    token: Option<&str>,
) -> Reply {
    let body = body.to_string();
    let mut extra = String::new();
    if let Some(timestamp) = timestamp {
        extra.push_str(&format!("X-Anyon-Timestamp: {timestamp}\r\n"));
    }
    if let Some(signature) = signature {
        extra.push_str(&format!("X-Anyon-Signature: {signature}\r\n"));
    }
    if let Some(token) = token {
        extra.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    let head = format!(
        "POST /auth/subscription HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n{extra}Content-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        server.addr().port(),
        body.len()
    );
    raw(server.addr(), head.as_bytes())
}

#[test]
fn signed_webhooks_change_plans_in_serve_mode_and_forgeries_do_not() {
    const HOOK: &[u8] = b"webhook-secret-for-tests";
    let with_secret = |config: &mut AuthConfig| config.webhook_secret = Some(HOOK.to_vec());
    let server = Server::start_with(Mode::Serve, 0, None, with_secret);
    let alice = server.user("alice");
    let plan =
        |server: &Server| server.request("GET", "/auth/me", Some(&alice), None).json()["subscription"]["plan"].clone();
    let body = json!({"sub": "alice", "plan": "pro", "event_id": "evt_1"});
    let text = body.to_string();
    let now = auth::now();
    let good = auth::webhook::sign(HOOK, now, text.as_bytes());

    // Forgeries: no signature, a user's token, a bad or foreign signature, a stale or missing timestamp.
    webhook(&server, &body, Some(now), None, None).assert_error(403, "forbidden");
    webhook(&server, &body, Some(now), None, Some(&alice)).assert_error(403, "forbidden");
    webhook(&server, &body, Some(now), Some("sha256=00"), Some(&alice)).assert_error(403, "forbidden");
    let other = auth::webhook::sign(b"another secret", now, text.as_bytes());
    webhook(&server, &body, Some(now), Some(&other), None).assert_error(403, "forbidden");
    let enterprise = json!({"sub": "alice", "plan": "enterprise", "event_id": "evt_1"});
    webhook(&server, &enterprise, Some(now), Some(&good), None).assert_error(403, "forbidden");
    webhook(&server, &body, Some(now + 1), Some(&good), None).assert_error(403, "forbidden");
    webhook(&server, &body, None, Some(&good), None).assert_error(403, "forbidden");
    let stale = now - 10 * 60;
    let stale_signature = auth::webhook::sign(HOOK, stale, text.as_bytes());
    webhook(&server, &body, Some(stale), Some(&stale_signature), None).assert_error(403, "forbidden");
    assert_eq!(plan(&server), "free");

    let changed = webhook(&server, &body, Some(now), Some(&good), None);
    assert_eq!(changed.status, 200, "{changed:?}");
    assert_eq!(changed.json()["subscription"]["plan"], "pro");
    assert_eq!(plan(&server), "pro");

    // A signed event must name itself.
    let anonymous = json!({"sub": "alice", "plan": "team"});
    let signed = auth::webhook::sign(HOOK, now, anonymous.to_string().as_bytes());
    webhook(&server, &anonymous, Some(now), Some(&signed), None).assert_error(400, "bad_request");
    assert_eq!(plan(&server), "pro");

    // The embedded server takes no webhooks, even with a secret configured.
    let embedded = Server::start_with(Mode::Embedded, 0, None, with_secret);
    embedded.user("alice");
    webhook(&embedded, &body, Some(now), Some(&good), None).assert_error(403, "forbidden");
}

/// Signs `body` at `timestamp` and posts it as a webhook.
fn signed(server: &Server, secret: &[u8], body: &Value, timestamp: i64) -> Reply {
    let signature = auth::webhook::sign(secret, timestamp, body.to_string().as_bytes());
    webhook(server, body, Some(timestamp), Some(&signature), None)
}

#[test]
fn a_replayed_or_out_of_order_webhook_event_is_refused() {
    const HOOK: &[u8] = b"webhook-secret-for-tests";
    let server = Server::start_with(Mode::Serve, 0, None, |config: &mut AuthConfig| {
        config.webhook_secret = Some(HOOK.to_vec());
    });
    let alice = server.user("alice");
    server.user("bob");
    let plan =
        |server: &Server| server.request("GET", "/auth/me", Some(&alice), None).json()["subscription"]["plan"].clone();
    let now = auth::now();
    let pro = json!({"sub": "alice", "plan": "pro", "event_id": "evt_pro"});
    assert_eq!(signed(&server, HOOK, &pro, now - 20).status, 200);
    assert_eq!(plan(&server), "pro");

    // A later event for the same subscription applies; replaying the first one, byte for byte and inside the
    // 5-minute window, does not undo it.
    let free = json!({"sub": "alice", "plan": "free", "event_id": "evt_free"});
    assert_eq!(signed(&server, HOOK, &free, now - 10).status, 200);
    let replay = signed(&server, HOOK, &pro, now - 20);
    replay.assert_error(409, "replayed_event");
    super::openapi::assert_documented(&super::openapi::openapi(), "POST", "/auth/subscription", &replay);
    assert_eq!(plan(&server), "free");
    // The same id with another body, signed afresh, is the same event.
    let reused = json!({"sub": "alice", "plan": "team", "event_id": "evt_free"});
    signed(&server, HOOK, &reused, now).assert_error(409, "replayed_event");

    // A new event older than the subscription's last change arrives too late.
    let late = json!({"sub": "alice", "plan": "pro", "event_id": "evt_late"});
    signed(&server, HOOK, &late, now - 15).assert_error(409, "stale_event");
    assert_eq!(plan(&server), "free");
    // ... while one as new as the last change, or newer, applies; other users are not held back.
    let team = json!({"sub": "alice", "plan": "team", "event_id": "evt_team"});
    assert_eq!(signed(&server, HOOK, &team, now - 10).status, 200);
    assert_eq!(plan(&server), "team");
    let bob = json!({"sub": "bob", "plan": "pro", "event_id": "evt_bob"});
    assert_eq!(signed(&server, HOOK, &bob, now - 60).status, 200);

    // An event that could not be applied may be sent again.
    let nobody = json!({"sub": "nobody", "plan": "pro", "event_id": "evt_nobody"});
    signed(&server, HOOK, &nobody, now).assert_error(404, "not_found");
    signed(&server, HOOK, &nobody, now).assert_error(404, "not_found");
}
