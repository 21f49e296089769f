//! MCP servers: Claude's own files written as `claude mcp add` writes them (checked with the real
//! `claude mcp get`), other keys kept, and real connection tests against npm's reference servers.

use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::time::{Duration, Instant};

use anyon::domain::mcp::probe::{ProbeFailure, ProbeReport};
use serde_json::{Value, json};

use crate::support::{self, TempHome};
use anyon::domain::mcp::requests::McpTestConnection;

/// HOME, CLAUDE_CONFIG_DIR and a project folder for both `anyon` and `claude`.
struct Place {
    _root: tempfile::TempDir,
    home: PathBuf,
    config: PathBuf,
    project: PathBuf,
    anyon_home: TempHome,
}

impl Place {
    fn new() -> Self {
        let root = tempfile::Builder::new().prefix("anyon-mcp").tempdir().unwrap();
        let base = std::fs::canonicalize(root.path()).unwrap();
        let (home, config, project) = (base.join("home"), base.join("config"), base.join("project"));
        for dir in [&home, &config, &project] {
            std::fs::create_dir_all(dir).unwrap();
        }
        Self {
            _root: root,
            home,
            config,
            project,
            anyon_home: TempHome::new(),
        }
    }

    fn claude_json(&self) -> PathBuf {
        self.config.join(".claude.json")
    }

    fn anyon(&self, args: &[&str]) -> std::process::Output {
        self.anyon_home
            .anyon_command(args)
            .env("HOME", &self.home)
            .env("CLAUDE_CONFIG_DIR", &self.config)
            .current_dir(&self.project)
            .output()
            .unwrap()
    }

    fn anyon_ok(&self, args: &[&str]) -> Value {
        let output = self.anyon(args);
        assert!(
            output.status.success(),
            "anyon {args:?}: {:?} {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap_or(Value::Null)
    }

    fn claude(&self, bin: &Path, args: &[&str]) -> std::process::Output {
        Process::new(bin)
            .args(args)
            .env("HOME", &self.home)
            .env("CLAUDE_CONFIG_DIR", &self.config)
            .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
            .env_remove("ANTHROPIC_API_KEY")
            .current_dir(&self.project)
            .output()
            .unwrap()
    }
}

/// `claude mcp get NAME`'s fields: Scope, Type, Command, Args, URL, and Environment / Headers lines.
fn claude_get(place: &Place, bin: &Path, name: &str) -> Vec<(String, String)> {
    let output = place.claude(bin, &["mcp", "get", name]);
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "claude mcp get {name}: {text} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut fields = Vec::new();
    let mut section = String::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("    ") {
            fields.push((section.clone(), rest.trim().to_owned()));
        } else if let Some(rest) = line.strip_prefix("  ")
            && let Some((key, value)) = rest.split_once(':')
        {
            section = key.trim().to_owned();
            if !value.trim().is_empty() {
                fields.push((section.clone(), value.trim().to_owned()));
            }
        }
    }
    fields
}

fn field<'a>(fields: &'a [(String, String)], key: &str) -> Vec<&'a str> {
    fields
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .collect()
}

#[test]
fn claude_mcp_get_agrees_with_what_anyon_wrote_in_every_scope() {
    let Some(bin) = support::claude::require_claude_bin("claude_mcp_get_agrees_with_what_anyon_wrote_in_every_scope")
    else {
        return;
    };
    let place = Place::new();
    place.anyon_ok(&[
        "mcp",
        "add",
        "tools-u",
        "--scope",
        "user",
        "-e",
        "API_KEY=k1",
        "-e",
        "MODE=fast",
        "--json",
        "--",
        "node",
        "server.js",
        "--flag",
        "x",
    ]);
    place.anyon_ok(&[
        "mcp",
        "add",
        "web-l",
        "--scope",
        "local",
        "--transport",
        "http",
        "-H",
        "Authorization: Bearer tok",
        "--json",
        "http://127.0.0.1:9/mcp",
    ]);
    place.anyon_ok(&[
        "mcp",
        "add",
        "events-p",
        "--scope",
        "project",
        "--transport",
        "sse",
        "--json",
        "http://127.0.0.1:9/sse",
    ]);
    place.anyon_ok(&[
        "mcp",
        "add-json",
        "json-l",
        r#"{"type":"stdio","command":"python3","args":["-m","srv"],"env":{"A":"1"}}"#,
        "--json",
    ]);

    let u = claude_get(&place, &bin, "tools-u");
    assert!(field(&u, "Scope")[0].starts_with("User config"), "{u:?}");
    assert_eq!(field(&u, "Type"), ["stdio"]);
    assert_eq!(field(&u, "Command"), ["node"]);
    assert_eq!(field(&u, "Args"), ["server.js --flag x"]);
    assert_eq!(field(&u, "Environment"), ["API_KEY=k1", "MODE=fast"]);

    let l = claude_get(&place, &bin, "web-l");
    assert!(field(&l, "Scope")[0].starts_with("Local config"), "{l:?}");
    assert_eq!(field(&l, "Type"), ["http"]);
    assert_eq!(field(&l, "URL"), ["http://127.0.0.1:9/mcp"]);
    assert_eq!(field(&l, "Headers"), ["Authorization: Bearer tok"]);

    let p = claude_get(&place, &bin, "events-p");
    assert!(field(&p, "Scope")[0].starts_with("Project config"), "{p:?}");
    assert_eq!(field(&p, "Type"), ["sse"]);
    assert_eq!(field(&p, "URL"), ["http://127.0.0.1:9/sse"]);

    let j = claude_get(&place, &bin, "json-l");
    assert!(field(&j, "Scope")[0].starts_with("Local config"), "{j:?}");
    assert_eq!(field(&j, "Command"), ["python3"]);
    assert_eq!(field(&j, "Args"), ["-m srv"]);
    assert_eq!(field(&j, "Environment"), ["A=1"]);

    // And the other way: what `claude mcp add` writes, ANYON lists the same; what ANYON removes, Claude no
    // longer finds.
    let added = place.claude(
        &bin,
        &[
            "mcp",
            "add",
            "from-claude",
            "-s",
            "user",
            "-e",
            "T=2",
            "--",
            "deno",
            "run",
            "x.ts",
        ],
    );
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    let listed = place.anyon_ok(&["mcp", "get", "from-claude", "--reveal", "--json"]);
    assert_eq!(listed[0]["scope"], "user");
    assert_eq!(listed[0]["transport"], "stdio");
    assert_eq!(listed[0]["command"], "deno");
    assert_eq!(listed[0]["args"], json!(["run", "x.ts"]));
    assert_eq!(listed[0]["env"], json!({"T": "2"}));
    place.anyon_ok(&["mcp", "remove", "web-l", "--json"]);
    let gone = place.claude(&bin, &["mcp", "get", "web-l"]);
    assert!(!gone.status.success(), "claude still finds a removed server");
    assert_eq!(
        field(&claude_get(&place, &bin, "tools-u"), "Command"),
        ["node"],
        "the others stay"
    );
}

#[test]
fn every_other_key_of_claude_json_is_kept_in_order() {
    let place = Place::new();
    let original = json!({
        "numStartups": 42,
        "theme": "dark",
        "userID": "abc123",
        "tipsHistory": {"z-tip": 3, "a-tip": 1},
        "projects": {
            "/somewhere/else": {
                "allowedTools": ["Bash"],
                "hasTrustDialogAccepted": true,
                "mcpServers": {"keep-me": {"type": "stdio", "command": "x", "args": [], "env": {}}},
                "zLast": null
            }
        },
        "oauthAccount": {"emailAddress": "someone@example.com", "organizationRole": "admin"},
        "cachedStatsig": [1, 2.5, "three", {"nested": [true, false]}],
        "bigNumber": 12345678901234567890u64,
        "unicode": "naïve — ✓",
        "aaaAtTheEnd": 0
    });
    let text = serde_json::to_string_pretty(&original).unwrap();
    std::fs::write(place.claude_json(), &text).unwrap();

    place.anyon_ok(&["mcp", "add", "u1", "-s", "user", "--json", "--", "echo", "hi"]);
    place.anyon_ok(&["mcp", "add", "l1", "-s", "local", "--json", "--", "echo", "there"]);
    place.anyon_ok(&["mcp", "remove", "u1", "--json"]);

    let after: Value = serde_json::from_str(&std::fs::read_to_string(place.claude_json()).unwrap()).unwrap();
    let strip = |mut v: Value| {
        v.as_object_mut().unwrap().remove("mcpServers");
        if let Some(projects) = v["projects"].as_object_mut() {
            for p in projects.values_mut() {
                p.as_object_mut().unwrap().remove("mcpServers");
            }
            let here = place.project.to_string_lossy().into_owned();
            if projects.get(&here).is_some_and(|p| p.as_object().unwrap().is_empty()) {
                projects.remove(&here);
            }
        }
        v
    };
    // Equal, and in the same order: compared as text with key order preserved.
    assert_eq!(
        serde_json::to_string_pretty(&strip(after.clone())).unwrap(),
        serde_json::to_string_pretty(&strip(original.clone())).unwrap()
    );
    assert_eq!(
        after["projects"]["/somewhere/else"]["mcpServers"], original["projects"]["/somewhere/else"]["mcpServers"],
        "another project's servers are untouched"
    );
    let here = place.project.to_string_lossy().into_owned();
    assert_eq!(after["projects"][&here]["mcpServers"]["l1"]["args"], json!(["there"]));
    assert_eq!(after["mcpServers"], json!({}), "u1 was removed");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(place.claude_json()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644, "the file keeps the mode it had");
    }
    let leftovers: Vec<_> = std::fs::read_dir(&place.config)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "no temporary files left: {leftovers:?}");

    // A file ANYON cannot read is reported and never replaced.
    std::fs::write(place.claude_json(), "{\"broken\": ").unwrap();
    let output = place.anyon(&["mcp", "add", "u2", "-s", "user", "--json", "--", "echo"]);
    assert!(!output.status.success());
    assert_eq!(std::fs::read_to_string(place.claude_json()).unwrap(), "{\"broken\": ");
}

#[test]
fn import_preview_import_and_export_round_trip() {
    let place = Place::new();
    let desktop = place.home.join("claude_desktop_config.json");
    std::fs::write(
        &desktop,
        r#"{"mcpServers":{"fs":{"command":"npx","args":["-y","@modelcontextprotocol/server-filesystem","/tmp"]},
            "remote":{"type":"http","url":"http://127.0.0.1:9/mcp","headers":{"X-Key":"secret"}},
            "bad.name":{"command":"x"}},"globalShortcut":"Ctrl+Space"}"#,
    )
    .unwrap();
    let desktop_arg = desktop.to_str().unwrap();
    let preview = place.anyon_ok(&["mcp", "import", "--claude-desktop", desktop_arg, "--preview", "--json"]);
    let names: Vec<&str> = preview
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["fs", "remote", "bad.name"]);
    assert!(preview[2]["problem"].is_string());
    assert!(!place.claude_json().exists(), "a preview writes nothing");

    let imported = place.anyon_ok(&["mcp", "import", "--claude-desktop", desktop_arg, "-s", "user", "--json"]);
    assert_eq!(imported.as_array().unwrap().len(), 2, "the bad name is left out");
    let again = place.anyon_ok(&[
        "mcp",
        "import",
        "--claude-desktop",
        desktop_arg,
        "-s",
        "user",
        "--preview",
        "--json",
    ]);
    assert_eq!(again[0]["exists"], true);

    let file = place.home.join("export.json");
    let file_arg = file.to_str().unwrap();
    let exported = place.anyon_ok(&["mcp", "export", "--file", file_arg, "remote", "--json"]);
    assert_eq!(exported["count"], 1);
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(
        written,
        json!({"mcpServers": {"remote": {"type":"http","url":"http://127.0.0.1:9/mcp","headers":{"X-Key":"secret"}}}})
    );
    // The exported file imports into another scope as it was.
    place.anyon_ok(&["mcp", "import", file_arg, "-s", "project", "--json"]);
    let listed = place.anyon_ok(&["mcp", "get", "remote", "--json"]);
    let scopes: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["scope"].as_str().unwrap())
        .collect();
    assert_eq!(scopes, ["user", "project"]);
    assert_eq!(
        listed[1]["headers"]["X-Key"], "••••••",
        "secrets are masked unless revealed"
    );
    let revealed = place.anyon_ok(&["mcp", "get", "remote", "--reveal", "--json"]);
    assert_eq!(revealed[1]["headers"]["X-Key"], "secret");
    // One server in a file, named by --name.
    let single = place.home.join("one.json");
    std::fs::write(&single, r#"{"command":"echo","args":["solo"]}"#).unwrap();
    place.anyon_ok(&["mcp", "import", single.to_str().unwrap(), "--name", "solo", "--json"]);
    assert_eq!(place.anyon_ok(&["mcp", "get", "solo", "--json"])[0]["scope"], "local");
}

fn peer(dir: &str, package: &str, bin: &str) -> PathBuf {
    support::npm::install(dir, package, "2026.8.31", bin).unwrap_or_else(|e| panic!("{e}"))
}

fn everything() -> PathBuf {
    peer(
        "mcp-everything",
        "@modelcontextprotocol/server-everything",
        "mcp-server-everything",
    )
}

fn test_connection(config: Value, timeout: Duration) -> ProbeReport {
    let runtime = support::runtime();
    let home = TempHome::new();
    let (backend, _events) = support::backend(&runtime, &home);
    let command = McpTestConnection {
        name: "srv".into(),
        config,
        project_path: None,
        timeout,
    };
    runtime.block_on(backend.call(command)).unwrap()
}

#[test]
fn stdio_handshake_with_the_everything_and_filesystem_servers() {
    let report = test_connection(
        json!({"type":"stdio","command": everything(), "args": ["stdio"], "env": {}}),
        Duration::from_secs(60),
    );
    assert!(report.ok, "{report:?}");
    assert!(
        report.server_name.as_deref().is_some_and(|n| !n.is_empty()),
        "{report:?}"
    );
    assert!(report.server_version.is_some());
    assert!(report.tools.iter().any(|t| t.name == "echo"), "{:?}", report.tools);

    let shared = tempfile::tempdir().unwrap();
    let fs = peer(
        "mcp-filesystem",
        "@modelcontextprotocol/server-filesystem",
        "mcp-server-filesystem",
    );
    let report = test_connection(json!({"command": fs, "args": [shared.path()]}), Duration::from_secs(60));
    assert!(report.ok, "{report:?}");
    assert!(
        report.tools.iter().any(|t| t.name == "list_directory"),
        "{:?}",
        report.tools
    );
}

#[test]
fn failures_say_what_went_wrong() {
    let report = test_connection(
        json!({"type":"stdio","command":"/no/such/anyon-mcp-server","args":[]}),
        Duration::from_secs(10),
    );
    assert!(
        matches!(&report.failure, Some(ProbeFailure::Spawn { command, .. }) if command.contains("anyon-mcp-server")),
        "{report:?}"
    );

    let report = test_connection(
        json!({"command":"sh","args":["-c","echo 'missing token' >&2; exit 3"]}),
        Duration::from_secs(10),
    );
    match &report.failure {
        Some(ProbeFailure::Exited { status, stderr }) => {
            assert!(status.contains('3'), "{status}");
            assert!(stderr.contains("missing token"), "{stderr}");
        }
        other => panic!("{other:?}"),
    }

    let started = Instant::now();
    let report = test_connection(json!({"command":"sleep","args":["30"]}), Duration::from_millis(800));
    assert!(
        matches!(report.failure, Some(ProbeFailure::Timeout { .. })),
        "{report:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "a silent server is given up on"
    );

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let report = test_connection(
        json!({"type":"http","url": format!("http://127.0.0.1:{port}/mcp")}),
        Duration::from_secs(10),
    );
    assert!(
        matches!(report.failure, Some(ProbeFailure::Connect { .. })),
        "{report:?}"
    );
}

/// server-everything serving streamable HTTP on a free port; killed when dropped.
struct HttpServer {
    child: std::process::Child,
    port: u16,
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn http_server(mode: &str) -> HttpServer {
    let bin = everything();
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let child = Process::new(bin)
        .arg(mode)
        .env("PORT", port.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let server = HttpServer { child, port };
    support::wait_for("the HTTP MCP server", Duration::from_secs(60), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).ok()
    });
    server
}

#[test]
fn http_handshake_and_http_errors() {
    let server = http_server("streamableHttp");
    let report = test_connection(
        json!({"type":"http","url": format!("http://127.0.0.1:{}/mcp", server.port), "headers": {"X-Test": "1"}}),
        Duration::from_secs(30),
    );
    assert!(report.ok, "{report:?}");
    assert!(report.tools.iter().any(|t| t.name == "echo"), "{:?}", report.tools);

    let report = test_connection(
        json!({"type":"http","url": format!("http://127.0.0.1:{}/nowhere", server.port)}),
        Duration::from_secs(30),
    );
    assert!(
        matches!(report.failure, Some(ProbeFailure::Http { status: 404, .. })),
        "{report:?}"
    );
}

#[test]
fn legacy_sse_handshake() {
    let server = http_server("sse");
    let report = test_connection(
        json!({"type":"sse","url": format!("http://127.0.0.1:{}/sse", server.port)}),
        Duration::from_secs(30),
    );
    assert!(report.ok, "{report:?}");
    assert!(report.server_name.is_some());
    assert!(report.tools.iter().any(|t| t.name == "echo"), "{:?}", report.tools);
}
