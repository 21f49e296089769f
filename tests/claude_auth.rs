//! Secrets (keychain and 0600 fallback file), Claude's authentication check, the saved Anthropic API key
//! (form, verification against the mock API), and that key reaching the real Claude CLI ANYON starts.
//!
//! In-process tests use a file-only store: they must never write to the keychain of the person running
//! them. The keychain itself is exercised through the `anyon` binary in a private D-Bus session.

use std::io::Write;
use std::path::Path;
use std::process::{Command as Process, Output as ProcessOutput, Stdio};
use std::time::Duration;

use anyon::backend::command::Secret;
use anyon::backend::{Backend, BackendError};
use anyon::domain::secrets::{FALLBACK_FILE, SecretBackend, SecretStore, StoreMode};
use serde_json::Value;

use crate::support::mock_api::{MockApi, RequestKind, Script};
use crate::support::{self, TempHome};
use anyon::domain::claude::credentials::requests::{ClaudeAuthSaveApiKey, KeySaved};

fn key(fill: char) -> String {
    format!("sk-ant-api03-{}", fill.to_string().repeat(60))
}

/// A backend whose secrets live in `home`'s fallback file only.
fn file_backend(runtime: &tokio::runtime::Runtime, home: &TempHome) -> Backend {
    let (backend, _events) = support::backend(runtime, home);
    backend.set_secret_store(SecretStore::new(home.path(), StoreMode::FileOnly));
    backend
}

fn save(
    runtime: &tokio::runtime::Runtime,
    backend: &Backend,
    api_key: &str,
    base_url: Option<String>,
) -> Result<KeySaved, BackendError> {
    runtime.block_on(backend.call(ClaudeAuthSaveApiKey {
        api_key: Secret::new(api_key),
        verify: base_url.is_some(),
        base_url,
    }))
}

/// Runs `anyon args` on `home` with `key` on stdin and `env` added.
fn anyon_with_stdin(home: &TempHome, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> ProcessOutput {
    let mut command = home.anyon_command(args);
    command
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("run anyon");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write the key");
    child.wait_with_output().expect("anyon output")
}

fn json_of(output: &ProcessOutput) -> Value {
    assert!(
        output.status.success(),
        "anyon failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON on stdout")
}

#[cfg(unix)]
fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).expect("the file exists").permissions().mode() & 0o777
}

#[cfg(unix)]
#[test]
fn fallback_file_is_created_owner_only_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = SecretStore::new(dir.path(), StoreMode::FileOnly);
    let backend = store.set("auth-jwt", &Secret::new("eyJ.token.sig")).unwrap();
    let path = dir.path().join(FALLBACK_FILE);
    assert_eq!(backend, SecretBackend::File { path: path.clone() });
    assert_eq!(mode_of(&path), 0o600);
    // A second store (another process, a restart) reads it back.
    let again = SecretStore::new(dir.path(), StoreMode::FileOnly);
    let stored = again.get("auth-jwt").unwrap().expect("saved");
    assert_eq!(stored.value.expose(), "eyJ.token.sig");
    assert_eq!(stored.backend, backend);
    assert_eq!(again.backend().to_string(), format!("file {}", path.display()));
}

#[cfg(unix)]
#[test]
fn env_forces_the_file_backend_and_the_cli_never_prints_the_key() {
    let home = TempHome::new();
    let api_key = key('f');
    let force = [("ANYON_SECRET_STORE", "file")];
    let saved = json_of(&anyon_with_stdin(
        &home,
        &["claude-auth", "set-key", "--json"],
        &format!("{api_key}\n"),
        &force,
    ));
    let path = home.path().join(FALLBACK_FILE);
    assert_eq!(saved["saved"]["stored_in"]["kind"], "file");
    assert_eq!(saved["saved"]["stored_in"]["path"], path.display().to_string());
    assert_eq!(saved["saved"]["masked"], "sk-ant-…ffff");
    assert_eq!(mode_of(&path), 0o600);
    assert!(std::fs::read_to_string(&path).unwrap().contains(&api_key));

    let check = home
        .anyon_command(&["claude-auth", "check", "--json"])
        .env("ANYON_SECRET_STORE", "file")
        .env_remove("ANTHROPIC_API_KEY")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&check.stdout).into_owned();
    assert!(!text.contains(&api_key), "the whole key is never printed: {text}");
    let report = json_of(&check);
    assert_eq!(report["saved_api_key"]["masked"], "sk-ant-…ffff");
    assert_eq!(report["key_in_use"], "saved");
    assert_eq!(report["secret_store"]["kind"], "file");

    let removed = json_of(
        &home
            .anyon_command(&["claude-auth", "remove-key", "--json"])
            .env("ANYON_SECRET_STORE", "file")
            .output()
            .unwrap(),
    );
    assert_eq!(removed["removed"], true);
    assert!(!path.exists(), "nothing is left behind");
    let again = json_of(
        &home
            .anyon_command(&["claude-auth", "remove-key", "--json"])
            .env("ANYON_SECRET_STORE", "file")
            .output()
            .unwrap(),
    );
    assert_eq!(again["removed"], false);

    // An empty stdin is a clear error, not a saved empty key.
    let empty = anyon_with_stdin(&home, &["claude-auth", "set-key", "--json"], "", &force);
    assert!(!empty.status.success());
    let error: Value = serde_json::from_slice(&empty.stderr).expect("a JSON error");
    assert_eq!(error["error"]["kind"], "invalid_key");
}

/// With no D-Bus session to reach, the keychain errors and the key lands in the file, with nothing lost.
/// (Linux and the BSDs: elsewhere the keychain does not go through D-Bus.)
#[cfg(all(unix, not(target_os = "macos")))]
#[test]
fn keychain_errors_fall_back_to_the_file() {
    let home = TempHome::new();
    let runtime_dir = tempfile::tempdir().unwrap();
    let no_bus = [
        ("ANYON_SECRET_STORE", "auto"),
        ("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/anyon-test-bus"),
        ("XDG_RUNTIME_DIR", runtime_dir.path().to_str().unwrap()),
    ];
    let saved = json_of(&anyon_with_stdin(
        &home,
        &["claude-auth", "set-key", "--json"],
        &key('k'),
        &no_bus,
    ));
    assert_eq!(saved["saved"]["stored_in"]["kind"], "file", "{saved}");
    assert_eq!(mode_of(&home.path().join(FALLBACK_FILE)), 0o600);
    let check = json_of(&anyon_with_stdin(
        &home,
        &["claude-auth", "check", "--json"],
        "",
        &no_bus,
    ));
    assert_eq!(check["saved_api_key"]["masked"], "sk-ant-…kkkk");
    assert_eq!(check["secret_store"]["kind"], "file");
    assert_eq!(check["saved_api_key_error"], Value::Null);
}

/// The real Secret Service (gnome-keyring in a private D-Bus session): a key the file got while there was no
/// keychain is still read; a new key goes to the keychain and the plain-text copy goes away; `secret-tool`
/// finds it there, and removing it removes it there.
#[cfg(target_os = "linux")]
#[test]
fn real_keychain_keeps_the_key() {
    let missing: Vec<&str> = ["gnome-keyring-daemon", "dbus-run-session", "secret-tool"]
        .into_iter()
        .filter(|tool| {
            !Process::new("sh")
                .args(["-c", &format!("command -v {tool}")])
                .output()
                .is_ok_and(|output| output.status.success())
        })
        .collect();
    if !missing.is_empty() {
        support::skip(
            "real_keychain_keeps_the_key",
            &format!(
                "{} not installed (apt-get install gnome-keyring dbus libsecret-tools)",
                missing.join(", ")
            ),
        );
        return;
    }
    let home = TempHome::new();
    let sandbox = tempfile::tempdir().unwrap();
    let out = sandbox.path();
    let script = r#"
        echo -n pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null || exit 90
        "$ANYON" claude-auth check --json > "$OUT/before.json" || exit 94
        printf %s "$KEY" | "$ANYON" claude-auth set-key --json > "$OUT/set.json" || exit 91
        secret-tool lookup service anyon username anthropic-api-key > "$OUT/lookup.txt"
        "$ANYON" claude-auth check --json > "$OUT/check.json" || exit 92
        "$ANYON" claude-auth remove-key --json > "$OUT/remove.json" || exit 93
        secret-tool lookup service anyon username anthropic-api-key > "$OUT/after.txt"
        exit 0
    "#;
    let api_key = key('r');
    SecretStore::new(home.path(), StoreMode::FileOnly)
        .set("anthropic-api-key", &Secret::new(key('o')))
        .unwrap();
    let status = Process::new("dbus-run-session")
        .args(["--", "sh", "-c", script])
        .env("HOME", out)
        .env("XDG_RUNTIME_DIR", out)
        .env("XDG_DATA_HOME", out.join("data"))
        .env("ANYON_HOME", home.path())
        .env("ANYON", support::anyon_bin())
        .env("OUT", out)
        .env("KEY", &api_key)
        .env_remove("ANYON_SECRET_STORE")
        .env_remove("ANTHROPIC_API_KEY")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run dbus-run-session");
    assert!(status.success(), "the keychain script failed: {status}");
    let read = |name: &str| std::fs::read_to_string(out.join(name)).unwrap_or_default();
    let before: Value = serde_json::from_str(&read("before.json")).expect("check's JSON");
    assert_eq!(
        before["saved_api_key"]["masked"], "sk-ant-…oooo",
        "the file's key is not lost"
    );
    assert_eq!(before["saved_api_key"]["stored_in"]["kind"], "file");
    assert_eq!(before["secret_store"]["kind"], "keychain");
    let saved: Value = serde_json::from_str(&read("set.json")).expect("set-key's JSON");
    assert_eq!(saved["saved"]["stored_in"]["kind"], "keychain", "{saved}");
    assert_eq!(read("lookup.txt").trim(), api_key, "the keychain holds the key");
    assert!(!home.path().join(FALLBACK_FILE).exists(), "no plain-text copy");
    let check: Value = serde_json::from_str(&read("check.json")).expect("check's JSON");
    assert_eq!(check["saved_api_key"]["stored_in"]["kind"], "keychain");
    assert_eq!(check["secret_store"]["kind"], "keychain");
    let removed: Value = serde_json::from_str(&read("remove.json")).expect("remove-key's JSON");
    assert_eq!(removed["removed"], true);
    assert_eq!(read("after.txt").trim(), "", "removed from the keychain");
}

#[test]
fn malformed_keys_are_refused_before_anything_is_saved() {
    let runtime = support::runtime();
    let home = TempHome::new();
    let backend = file_backend(&runtime, &home);
    for (bad, says) in [
        ("sk-proj-0123456789012345678901234567890123456789", "sk-ant-"),
        ("sk-ant-short", "40 to 256"),
        (&format!("sk-ant-{}", "x".repeat(300)), "40 to 256"),
        (
            &format!("sk-ant-{} {}", "x".repeat(30), "y".repeat(30)),
            "letters, digits",
        ),
        ("", "sk-ant-"),
    ] {
        let error = save(&runtime, &backend, bad, None).unwrap_err();
        assert_eq!(error.kind(), "invalid_key");
        assert!(error.to_string().contains(says), "{bad:?}: {error}");
    }
    assert!(!home.path().join(FALLBACK_FILE).exists());
}

#[test]
fn keys_are_verified_against_the_api_before_saving() {
    let runtime = support::runtime();
    let home = TempHome::new();
    let backend = file_backend(&runtime, &home);
    let good = key('g');
    let api = MockApi::start(Script::new().accept_keys(&[&good]));

    let saved = save(&runtime, &backend, &good, Some(api.base_url())).expect("the API accepts it");
    let KeySaved { key: saved, verified } = saved;
    assert!(verified);
    assert_eq!(saved.masked, "sk-ant-…gggg");
    let asked = api
        .requests()
        .into_iter()
        .find(|request| request.kind == RequestKind::Models)
        .expect("GET /v1/models");
    assert_eq!(asked.method, "GET");
    assert_eq!(asked.header("x-api-key"), Some(good.as_str()));
    assert_eq!(asked.header("anthropic-version"), Some("2023-06-01"));

    // A key the API refuses is not saved: the good one stays.
    let error = save(&runtime, &backend, &key('b'), Some(api.base_url())).unwrap_err();
    assert_eq!(error.kind(), "key_rejected");
    assert!(error.to_string().contains("rejected"), "{error}");
    assert!(error.to_string().contains("401"), "{error}");
    assert_eq!(
        api.requests().last().map(|request| request.kind),
        Some(RequestKind::Unauthorized)
    );
    let store = SecretStore::new(home.path(), StoreMode::FileOnly);
    assert_eq!(store.get("anthropic-api-key").unwrap().unwrap().value.expose(), good);

    // An API that cannot be reached is a clear error too.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let error = save(&runtime, &backend, &key('c'), Some(url.clone())).unwrap_err();
    assert_eq!(error.kind(), "api_unreachable");
    assert!(
        error
            .to_string()
            .contains(&format!("cannot check the key with {url}/v1/models")),
        "{error}"
    );
}

/// The saved key reaches the real Claude CLI that `anyon chat` starts, and an `ANTHROPIC_API_KEY` in
/// ANYON's environment wins over it. The mock API accepts only those two keys.
#[test]
fn a_saved_key_reaches_the_claude_that_anyon_starts() {
    let Some(bin) = support::claude::require_claude_bin("a_saved_key_reaches_the_claude_that_anyon_starts") else {
        return;
    };
    let saved_key = key('s');
    let env_key = key('e');
    let api = MockApi::start(Script::text("hello from the mock").accept_keys(&[&saved_key, &env_key]));
    let sandbox = support::claude::Sandbox::new();
    let home = TempHome::new();
    let run = |extra: &[(&str, &str)], args: &[&str]| {
        let mut command = home.anyon_command(args);
        command
            .env("ANYON_SECRET_STORE", "file")
            .env("ANYON_CLAUDE_BIN", &bin)
            .env("HOME", &sandbox.home)
            .env("CLAUDE_CONFIG_DIR", &sandbox.config_dir)
            .env("ANTHROPIC_BASE_URL", api.base_url())
            .env("CLAUDE_CODE_MAX_RETRIES", "0")
            .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
            .env_remove("ANTHROPIC_API_KEY")
            .env_remove("ANTHROPIC_AUTH_TOKEN")
            .envs(extra.iter().copied());
        command.output().expect("run anyon")
    };
    let saved = anyon_with_stdin(
        &home,
        &["claude-auth", "set-key", "--json"],
        &saved_key,
        &[("ANYON_SECRET_STORE", "file")],
    );
    json_of(&saved);
    let project = sandbox.project.to_str().unwrap();
    let chat = ["chat", "--project", project, "--prompt", "say hello", "--json"];

    let output = run(&[], &chat);
    assert!(
        output.status.success(),
        "chat failed: {}\n{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("hello from the mock"));
    let keys_seen = |api: &MockApi| -> Vec<String> {
        api.messages_requests(RequestKind::Main)
            .iter()
            .filter_map(|request| request.header("x-api-key").map(str::to_owned))
            .collect()
    };
    assert_eq!(keys_seen(&api), vec![saved_key.clone()]);

    // Claude's own view, as ANYON runs it: logged in with the key from ANTHROPIC_API_KEY.
    let report: Value = serde_json::from_slice(&run(&[], &["claude-auth", "check", "--json"]).stdout).unwrap();
    assert_eq!(report["claude_status"]["state"], "answered", "{report}");
    assert_eq!(report["claude_status"]["logged_in"], true, "{report}");
    assert_eq!(report["key_in_use"], "saved");

    let output = run(&[("ANTHROPIC_API_KEY", &env_key)], &chat);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    api.wait_for("the second turn", Duration::from_secs(30), |records| {
        (records.iter().filter(|r| r.kind == RequestKind::Main).count() >= 2).then_some(())
    });
    assert_eq!(
        keys_seen(&api),
        vec![saved_key.clone(), env_key],
        "the environment's key wins"
    );

    // Agent runs get the saved key too.
    let created = run(&[], &["agents", "create", "--name", "keyed", "--json"]);
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let agent = run(
        &[],
        &["agents", "run", "keyed", "--project", project, "--task", "hi", "--json"],
    );
    assert!(agent.status.success(), "{}", String::from_utf8_lossy(&agent.stderr));
    assert_eq!(keys_seen(&api).last(), Some(&saved_key));
}
