//! The OpenAPI document in `assets/` holds the server to its shapes, and the server to the document.

use serde_json::{Value, json};

use super::{ADMIN, Reply, Server};

pub(super) fn openapi() -> Value {
    serde_json::from_str(include_str!("../../assets/auth-openapi.json")).unwrap()
}

/// Follows one local `$ref` (`#/components/...`).
fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => doc
            .pointer(reference.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("dangling $ref {reference}")),
        None => value,
    }
}

/// Asserts that `reply` to `method template` is a documented status with the documented required fields.
pub(super) fn assert_documented(doc: &Value, method: &str, template: &str, reply: &Reply) {
    let operation = &doc["paths"][template][method.to_ascii_lowercase()];
    assert!(operation.is_object(), "{method} {template} is not documented");
    let response = operation["responses"]
        .get(reply.status.to_string())
        .unwrap_or_else(|| panic!("{method} {template} answered {} which is not documented", reply.status));
    let response = resolve(doc, response);
    let Some(schema) = response.pointer("/content/application~1json/schema") else {
        return;
    };
    let schema = resolve(doc, schema);
    let body = reply.json();
    for field in schema["required"].as_array().into_iter().flatten() {
        let field = field.as_str().unwrap();
        assert!(
            body.get(field).is_some(),
            "{method} {template} {}: no {field} in {body}",
            reply.status
        );
    }
}

/// One call: method, path, documented path template, bearer token, JSON body.
type Call<'a> = (&'a str, &'a str, &'a str, Option<&'a str>, Option<Value>);

#[test]
fn the_openapi_document_describes_what_the_server_does() {
    let doc = openapi();
    let server = Server::new();
    let alice = server.user("alice");
    let value = json!({"value": 1});
    let calls: Vec<Call<'_>> = vec![
        ("GET", "/health", "/health", None, None),
        ("GET", "/auth/verify", "/auth/verify", Some(&alice), None),
        ("GET", "/auth/verify", "/auth/verify", Some("bad"), None),
        ("GET", "/auth/me", "/auth/me", Some(&alice), None),
        ("GET", "/auth/me", "/auth/me", None, None),
        (
            "POST",
            "/auth/subscription",
            "/auth/subscription",
            Some(ADMIN),
            Some(json!({"sub": "alice", "plan": "pro"})),
        ),
        (
            "POST",
            "/auth/subscription",
            "/auth/subscription",
            Some(&alice),
            Some(json!({"sub": "alice", "plan": "pro"})),
        ),
        (
            "POST",
            "/auth/subscription",
            "/auth/subscription",
            Some(ADMIN),
            Some(json!({"plan": "pro"})),
        ),
        ("GET", "/api/settings", "/api/settings", Some(&alice), None),
        (
            "POST",
            "/api/settings",
            "/api/settings",
            Some(&alice),
            Some(json!({"a": true})),
        ),
        ("POST", "/api/settings", "/api/settings", Some(&alice), Some(json!("x"))),
        (
            "PATCH",
            "/api/settings/b",
            "/api/settings/{key}",
            Some(&alice),
            Some(value.clone()),
        ),
        (
            "PATCH",
            "/api/settings/b%20c",
            "/api/settings/{key}",
            Some(&alice),
            Some(value),
        ),
        ("DELETE", "/api/settings/b", "/api/settings/{key}", Some(&alice), None),
        ("DELETE", "/api/settings/b", "/api/settings/{key}", Some(&alice), None),
        ("POST", "/auth/logout", "/auth/logout", Some(&alice), None),
        ("POST", "/auth/logout", "/auth/logout", Some(&alice), None),
        ("GET", "/auth/google/url", "/auth/google/url", None, None),
        (
            "GET",
            "/auth/google/callback?code=c&state=unknown",
            "/auth/google/callback",
            None,
            None,
        ),
        (
            "POST",
            "/auth/exchange",
            "/auth/exchange",
            None,
            Some(json!({"code": "unknown"})),
        ),
        ("POST", "/auth/exchange", "/auth/exchange", None, Some(json!({}))),
    ];
    let mut covered = std::collections::BTreeSet::new();
    for (method, path, template, token, body) in &calls {
        let reply = server.request(method, path, *token, body.as_ref());
        assert_documented(&doc, method, template, &reply);
        covered.insert(format!("{} {template}", method.to_ascii_lowercase()));
    }
    // Every documented operation was exercised, so nothing documented is missing from the server.
    let documented: std::collections::BTreeSet<String> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .filter(|key| *key != "parameters")
                .map(move |method| format!("{method} {path}"))
        })
        .collect();
    assert_eq!(documented, covered);
}
