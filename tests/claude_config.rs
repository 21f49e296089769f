//! Claude's own configuration through the backend: settings of three scopes edited in place, slash
//! commands, and a hook written by ANYON that the real Claude CLI runs.

use std::path::Path;
use std::time::Duration;

use anyon::backend::command::{ClaudeRunRequest, Command};
use anyon::backend::event::{ErrorDetail, Event};
use anyon::backend::{Backend, EventReceiver};
use anyon::domain::claude_config::commands::CommandScope;
use anyon::domain::claude_config::{EnvEntry, SettingsEdit, SettingsScope};
use anyon::domain::settings::Setting;
use anyon::domain::settings::requests::SaveSetting;
use serde_json::json;

use crate::support::claude::{Sandbox, require_claude_bin};
use crate::support::mock_api::{MockApi, Script};
use crate::support::{self, TempHome};
use anyon::domain::claude::requests::ExecuteClaudeCode;
use anyon::domain::claude_config::requests::{
    ClaudeConfigEdit, ClaudeConfigRead, SlashCommandDelete, SlashCommandSave, SlashCommandsList,
};

fn edit(scope: SettingsScope, project: &Path, edit: SettingsEdit) -> Command {
    ClaudeConfigEdit {
        scope,
        project: Some(project.into()),
        edit,
        expected: None,
    }
    .into()
}

fn snapshot(
    runtime: &tokio::runtime::Runtime,
    backend: &Backend,
    project: &Path,
) -> anyon::domain::claude_config::ConfigSnapshot {
    let snapshot = runtime
        .block_on(backend.call(ClaudeConfigRead {
            project: Some(project.into()),
        }))
        .unwrap();
    std::sync::Arc::unwrap_or_clone(snapshot)
}

#[test]
fn settings_of_every_scope_round_trip_through_the_backend() {
    let runtime = support::runtime();
    let home = TempHome::new();
    let sandbox = Sandbox::new();
    let (backend, mut events) = support::backend(&runtime, &home);
    backend.set_claude_config_dir(sandbox.config_dir.clone());
    let user_file = sandbox.config_dir.join("settings.json");
    let original = "{\n  \"theme\": \"dark\",\n  \"env\": {\n    \"A\": \"user\"\n  }\n}\n";
    std::fs::write(&user_file, original).unwrap();
    let local_file = sandbox.project.join(".claude/settings.local.json");
    std::fs::create_dir_all(local_file.parent().unwrap()).unwrap();
    std::fs::write(&local_file, "{ not json").unwrap();

    let project = &sandbox.project;
    for command in [
        edit(
            SettingsScope::User,
            project,
            SettingsEdit::Set {
                key: "permissions.allow".into(),
                value: Some(json!(["Read"])),
            },
        ),
        edit(
            SettingsScope::Project,
            project,
            SettingsEdit::Set {
                key: "env.A".into(),
                value: Some(json!("project")),
            },
        ),
        edit(
            SettingsScope::Project,
            project,
            SettingsEdit::AddHook {
                event: "Stop".into(),
                matcher: None,
                command: "true".into(),
                timeout_secs: None,
            },
        ),
    ] {
        runtime.block_on(backend.execute(command)).unwrap();
    }
    let user_text = std::fs::read_to_string(&user_file).unwrap();
    assert!(
        user_text.starts_with("{\n  \"theme\": \"dark\",\n  \"env\""),
        "{user_text}"
    );

    let snapshot = snapshot(&runtime, &backend, project);
    assert_eq!(snapshot.files.len(), 3);
    let local = snapshot.file(SettingsScope::Local).unwrap();
    assert_eq!(local.malformed.as_ref().unwrap().text, "{ not json");
    assert_eq!(snapshot.effective.permissions.allow, ["Read"]);
    assert_eq!(
        snapshot.effective.env["A"],
        EnvEntry {
            value: "project".into(),
            scope: SettingsScope::Project
        }
    );
    let project_view = snapshot.file(SettingsScope::Project).unwrap();
    assert_eq!(project_view.hooks[0].0, "Stop");
    assert_eq!(project_view.hooks[0].1[0].hooks[0].command, "true");

    // Writing the malformed file is refused and leaves it as it was.
    let error = runtime
        .block_on(backend.execute(edit(
            SettingsScope::Local,
            project,
            SettingsEdit::Set {
                key: "env.B".into(),
                value: Some(json!("x")),
            },
        )))
        .unwrap_err();
    assert_eq!(error.kind(), "malformed");
    assert_eq!(std::fs::read_to_string(&local_file).unwrap(), "{ not json");

    // A stale version comes back as a failure the screen can act on, with the file's text now.
    let stale = snapshot.file(SettingsScope::User).unwrap().version.clone();
    std::fs::write(&user_file, "{\"theme\": \"light\"}\n").unwrap();
    backend.dispatch(ClaudeConfigEdit {
        scope: SettingsScope::User,
        project: None,
        edit: SettingsEdit::Set {
            key: "theme".into(),
            value: Some(json!("mine")),
        },
        expected: Some(stale),
    });
    let event = runtime
        .block_on(async { tokio::time::timeout(Duration::from_secs(10), events.recv()).await })
        .expect("an answer")
        .expect("open channel");
    match event {
        Event::Failed { command, detail, .. } => {
            assert_eq!(command, "claude_config_edit");
            assert_eq!(
                detail,
                ErrorDetail::ChangedOnDisk(Some("{\"theme\": \"light\"}\n".into()))
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(std::fs::read_to_string(&user_file).unwrap(), "{\"theme\": \"light\"}\n");
}

#[test]
fn slash_commands_of_both_scopes_through_the_backend() {
    let runtime = support::runtime();
    let home = TempHome::new();
    let sandbox = Sandbox::new();
    let (backend, _events) = support::backend(&runtime, &home);
    backend.set_claude_config_dir(sandbox.config_dir.clone());
    let save = |scope, name: &str, text: &str| SlashCommandSave {
        scope,
        project: Some(sandbox.project.clone()),
        name: name.into(),
        text: text.into(),
        expected: None,
        overwrite: false,
    };
    for command in [
        save(
            CommandScope::User,
            "review",
            "---\ndescription: Review it\n---\nReview $ARGUMENTS\n",
        ),
        save(CommandScope::Project, "db:migrate", "Migrate.\n"),
    ] {
        runtime.block_on(backend.execute(command)).unwrap();
    }
    assert!(sandbox.config_dir.join("commands/review.md").is_file());
    assert!(sandbox.project.join(".claude/commands/db/migrate.md").is_file());
    let list = runtime
        .block_on(backend.call(SlashCommandsList {
            project: Some(sandbox.project.clone()),
        }))
        .unwrap();
    let listed: Vec<(&str, CommandScope, Option<&str>)> = list
        .iter()
        .map(|c| (c.name.as_str(), c.scope, c.description.as_deref()))
        .collect();
    assert_eq!(
        listed,
        [
            ("review", CommandScope::User, Some("Review it")),
            ("db:migrate", CommandScope::Project, None)
        ]
    );
    runtime
        .block_on(backend.execute(SlashCommandDelete {
            scope: CommandScope::Project,
            project: Some(sandbox.project.clone()),
            name: "db:migrate".into(),
        }))
        .unwrap();
    assert!(!sandbox.project.join(".claude/commands/db").exists());
}

#[cfg(unix)]
#[test]
fn new_user_and_local_settings_are_private_and_a_rewrite_keeps_the_mode() {
    use std::os::unix::fs::PermissionsExt;
    let runtime = support::runtime();
    let home = TempHome::new();
    let sandbox = Sandbox::new();
    let (backend, _events) = support::backend(&runtime, &home);
    backend.set_claude_config_dir(sandbox.config_dir.clone());
    let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let secret = || SettingsEdit::Set {
        key: "env.API_TOKEN".into(),
        value: Some(json!("s3cret")),
    };
    let user_file = sandbox.config_dir.join("settings.json");
    let local_file = sandbox.project.join(".claude/settings.local.json");
    let project_file = sandbox.project.join(".claude/settings.json");
    for (scope, path) in [
        (SettingsScope::User, &user_file),
        (SettingsScope::Local, &local_file),
        (SettingsScope::Project, &project_file),
    ] {
        let _ = std::fs::remove_file(path);
        runtime
            .block_on(backend.execute(edit(scope, &sandbox.project, secret())))
            .unwrap();
        assert!(path.is_file(), "{scope:?} written");
    }
    assert_eq!(mode(&user_file), 0o600, "a new user file can hold env secrets");
    assert_eq!(mode(&local_file), 0o600, "so can a new local file");
    let reference = sandbox.project.join("reference");
    std::fs::write(&reference, "").unwrap();
    assert_eq!(
        mode(&project_file),
        mode(&reference),
        "the project file is shared: a new one gets the process default"
    );
    // An existing file keeps the mode its owner gave it, private scope or not.
    for (scope, path, chosen) in [
        (SettingsScope::User, &user_file, 0o640),
        (SettingsScope::Local, &local_file, 0o644),
        (SettingsScope::Project, &project_file, 0o600),
    ] {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(chosen)).unwrap();
        let again = SettingsEdit::Set {
            key: "env.OTHER".into(),
            value: Some(json!("x")),
        };
        runtime
            .block_on(backend.execute(edit(scope, &sandbox.project, again)))
            .unwrap();
        assert_eq!(mode(path), chosen, "{scope:?} rewritten with its mode kept");
    }
}

#[cfg(unix)]
#[test]
fn slash_commands_never_follow_folder_links_and_stop_at_a_depth() {
    let runtime = support::runtime();
    let home = TempHome::new();
    let sandbox = Sandbox::new();
    let (backend, _events) = support::backend(&runtime, &home);
    backend.set_claude_config_dir(sandbox.config_dir.clone());
    let commands = sandbox.project.join(".claude/commands");
    std::fs::create_dir_all(commands.join("ns")).unwrap();
    std::fs::write(commands.join("top.md"), "Top.\n").unwrap();
    std::fs::write(commands.join("ns/inner.md"), "Inner.\n").unwrap();
    // Two links to the folder itself: following them never ends (a, b, a/a, a/b, ...).
    std::os::unix::fs::symlink(".", commands.join("a")).unwrap();
    std::os::unix::fs::symlink(".", commands.join("b")).unwrap();
    std::os::unix::fs::symlink("..", commands.join("ns/up")).unwrap();
    // A link to a command file is a command.
    std::os::unix::fs::symlink("top.md", commands.join("alias.md")).unwrap();
    // A real folder deeper than 16 levels is cut off there.
    let mut deep = commands.clone();
    for level in 0..20 {
        deep.push(format!("d{level}"));
    }
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::write(deep.join("lost.md"), "Too deep.\n").unwrap();
    let (done, result) = std::sync::mpsc::channel();
    let project = sandbox.project.clone();
    let lister = backend.clone();
    let handle = runtime.handle().clone();
    std::thread::spawn(move || {
        let list = handle.block_on(lister.call(SlashCommandsList { project: Some(project) }));
        let _ = done.send(list);
    });
    let list = result
        .recv_timeout(Duration::from_secs(30))
        .expect("the listing finishes")
        .unwrap();
    let mut names: Vec<&str> = list
        .iter()
        .filter(|c| c.scope == CommandScope::Project)
        .map(|c| c.name.as_str())
        .collect();
    names.sort();
    assert_eq!(names, ["alias", "ns:inner", "top"]);
}

/// Runs one prompt in `project` and waits for it to end successfully.
fn run_to_end(
    runtime: &tokio::runtime::Runtime,
    backend: &Backend,
    events: &mut EventReceiver,
    project: &Path,
    prompt: &str,
) {
    let request = ClaudeRunRequest {
        project_path: project.into(),
        prompt: prompt.into(),
        ..ClaudeRunRequest::default()
    };
    let run_id = runtime
        .block_on(backend.call(ExecuteClaudeCode { run: request }))
        .expect("run did not start")
        .run_id;
    let outcome = runtime.block_on(async {
        tokio::time::timeout(Duration::from_secs(60), async {
            loop {
                match events.recv().await.expect("open channel") {
                    Event::RunFinished { outcome, .. } if outcome.run_id == run_id => return outcome,
                    _ => {}
                }
            }
        })
        .await
        .expect("the run ends")
    });
    assert_eq!(outcome.exit_code, Some(0), "{outcome:?}");
}

#[test]
fn a_pre_tool_use_hook_written_by_anyon_runs_in_a_real_claude_run() {
    let Some(bin) = require_claude_bin("a_pre_tool_use_hook_written_by_anyon_runs_in_a_real_claude_run") else {
        return;
    };
    let api = MockApi::start(Script::bash("echo from-the-tool", "Done."));
    let runtime = support::runtime();
    let home = TempHome::new();
    let sandbox = Sandbox::new();
    let (backend, mut events) = support::backend(&runtime, &home);
    sandbox.wire(&runtime, &backend, &bin, &api);
    backend.set_claude_config_dir(sandbox.config_dir.clone());
    let log = sandbox.home.join("hook.log");
    let project = &sandbox.project;
    for command in [
        edit(
            SettingsScope::Project,
            project,
            SettingsEdit::AddHook {
                event: "PreToolUse".into(),
                matcher: Some("Bash".into()),
                command: format!("cat >> '{}'; echo >> '{}'", log.display(), log.display()),
                timeout_secs: Some(10),
            },
        ),
        // Allowed by the local settings, so the run needs no permission prompt.
        edit(
            SettingsScope::Local,
            project,
            SettingsEdit::Set {
                key: "permissions.allow".into(),
                value: Some(json!(["Bash(echo:*)"])),
            },
        ),
    ] {
        runtime.block_on(backend.execute(command)).unwrap();
    }
    run_to_end(&runtime, &backend, &mut events, project, "Run the echo");
    let logged = std::fs::read_to_string(&log).unwrap_or_default();
    let line: serde_json::Value = serde_json::from_str(logged.lines().next().unwrap_or("null")).unwrap_or_default();
    assert_eq!(line["hook_event_name"], "PreToolUse", "{logged}");
    assert_eq!(line["tool_name"], "Bash", "{logged}");
    assert_eq!(line["tool_input"]["command"], "echo from-the-tool", "{logged}");
    // The tool was allowed by the local settings ANYON wrote, not refused.
    let tool_results = api
        .requests()
        .iter()
        .flat_map(|r| r.last_user_blocks())
        .filter(|b| b["type"] == "tool_result")
        .map(|b| b.to_string())
        .collect::<Vec<_>>();
    assert!(
        tool_results
            .iter()
            .any(|r| r.contains("from-the-tool") && !r.contains("\"is_error\":true")),
        "{tool_results:?}"
    );
}

#[test]
fn proxy_and_extra_variables_from_anyon_settings_reach_every_claude_process() {
    let Some(bin) = require_claude_bin("proxy_and_extra_variables_from_anyon_settings_reach_every_claude_process")
    else {
        return;
    };
    let api = MockApi::start(Script::text("Done."));
    let runtime = support::runtime();
    let home = TempHome::new();
    let sandbox = Sandbox::new();
    let (backend, mut events) = support::backend(&runtime, &home);
    sandbox.wire(&runtime, &backend, &bin, &api);
    backend.set_claude_config_dir(sandbox.config_dir.clone());
    let dump = sandbox.home.join("env.txt");
    runtime
        .block_on(backend.execute(edit(
            SettingsScope::Project,
            &sandbox.project,
            SettingsEdit::AddHook {
                event: "UserPromptSubmit".into(),
                matcher: None,
                command: format!("env > '{}'", dump.display()),
                timeout_secs: Some(10),
            },
        )))
        .unwrap();
    let save = |setting: fn(String) -> Setting, value: &str| {
        runtime
            .block_on(backend.execute(SaveSetting {
                setting: setting(value.into()),
            }))
            .unwrap();
    };
    // A proxy that does not exist: the local API is reached only because NO_PROXY exempts it.
    save(Setting::HttpsProxy, "http://127.0.0.1:9");
    save(Setting::HttpProxy, "http://127.0.0.1:9");
    save(Setting::NoProxy, "127.0.0.1,localhost");
    save(Setting::ExtraEnv, "ANYON_TEST_MARK=first\n# a comment");
    let bad = runtime.block_on(backend.execute(SaveSetting {
        setting: Setting::ExtraEnv("not a variable".into()),
    }));
    assert!(bad.is_err(), "a malformed line is refused");

    let variables = |dump: &Path| -> Vec<String> {
        let text = std::fs::read_to_string(dump).unwrap_or_default();
        let mut found: Vec<String> = text
            .lines()
            .filter(|l| {
                ["HTTPS_PROXY=", "HTTP_PROXY=", "NO_PROXY=", "ANYON_TEST_MARK="]
                    .iter()
                    .any(|p| l.starts_with(p))
            })
            .map(str::to_owned)
            .collect();
        found.sort();
        found
    };
    run_to_end(&runtime, &backend, &mut events, &sandbox.project, "first");
    assert_eq!(
        variables(&dump),
        [
            "ANYON_TEST_MARK=first",
            "HTTPS_PROXY=http://127.0.0.1:9",
            "HTTP_PROXY=http://127.0.0.1:9",
            "NO_PROXY=127.0.0.1,localhost"
        ]
    );
    // A change applies to the next process without a restart.
    save(Setting::ExtraEnv, "ANYON_TEST_MARK=second");
    save(Setting::HttpsProxy, "");
    save(Setting::HttpProxy, "");
    run_to_end(&runtime, &backend, &mut events, &sandbox.project, "second");
    assert_eq!(
        variables(&dump),
        ["ANYON_TEST_MARK=second", "NO_PROXY=127.0.0.1,localhost"]
    );
}

/// Runs `anyon config ...` in `project` with Claude's config folder at `config_dir`.
fn anyon_config(home: &TempHome, sandbox: &Sandbox, args: &[&str]) -> std::process::Output {
    let mut full = vec!["config"];
    full.extend_from_slice(args);
    home.anyon_command(&full)
        .env("CLAUDE_CONFIG_DIR", &sandbox.config_dir)
        .current_dir(&sandbox.project)
        .output()
        .expect("run anyon")
}

fn json_out(output: &std::process::Output) -> serde_json::Value {
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("JSON on stdout")
}

#[test]
fn the_config_cli_gets_sets_edits_hooks_and_manages_commands() {
    let home = TempHome::new();
    let sandbox = Sandbox::new();
    let user_file = sandbox.config_dir.join("settings.json");
    std::fs::write(&user_file, "{\n  \"model\": \"opus\"\n}\n").unwrap();
    let run = |args: &[&str]| anyon_config(&home, &sandbox, args);

    json_out(&run(&["set", "permissions.allow", "[\"Read\"]", "--json"]));
    json_out(&run(&["set", "env.A", "project-value", "--scope", "project", "--json"]));
    json_out(&run(&["set", "env.B", "local", "--scope", "local", "--json"]));
    json_out(&run(&["set", "env.B", "--unset", "--scope", "local", "--json"]));
    assert_eq!(
        std::fs::read_to_string(&user_file).unwrap(),
        "{\n  \"model\": \"opus\",\n  \"permissions\": {\n    \"allow\": [\n      \"Read\"\n    ]\n  }\n}\n"
    );
    assert_eq!(json_out(&run(&["get", "permissions.allow", "--json"])), json!(["Read"]));
    assert_eq!(
        json_out(&run(&["get", "env.A", "--json"])),
        json!({"value": "project-value", "scope": "project"})
    );
    assert_eq!(json_out(&run(&["get", "env", "--scope", "local", "--json"])), json!({}));
    let all = json_out(&run(&["get", "--json"]));
    assert_eq!(all["files"].as_array().map(Vec::len), Some(3));

    json_out(&run(&[
        "edit-hooks",
        "add",
        "--event",
        "PreToolUse",
        "--matcher",
        "Bash",
        "--command",
        "echo hi",
        "--scope",
        "project",
        "--json",
    ]));
    json_out(&run(&[
        "hooks",
        "edit",
        "--event",
        "PreToolUse",
        "--group",
        "0",
        "--hook",
        "0",
        "--command",
        "echo edited",
        "--timeout",
        "7",
        "--scope",
        "project",
        "--json",
    ]));
    let hooks = json_out(&run(&["hooks", "list", "--json"]));
    assert_eq!(
        hooks,
        json!([{"scope": "project", "event": "PreToolUse", "group": 0, "hook": 0, "matcher": "Bash",
                "command": "echo edited", "timeout": 7}])
    );
    json_out(&run(&[
        "hooks",
        "remove",
        "--event",
        "PreToolUse",
        "--group",
        "0",
        "--hook",
        "0",
        "--scope",
        "project",
        "--json",
    ]));
    assert_eq!(json_out(&run(&["hooks", "list", "--json"])), json!([]));

    let added = json_out(&run(&[
        "commands",
        "add",
        "git:ship",
        "Ship $ARGUMENTS",
        "--description",
        "Ship it",
        "--scope",
        "project",
        "--json",
    ]));
    assert_eq!(added["name"], "git:ship");
    assert_eq!(added["namespace"], "git");
    let listed = json_out(&run(&["commands", "list", "--json"]));
    assert_eq!(listed[0]["description"], "Ship it");
    let shown = run(&["commands", "show", "/git:ship"]);
    assert_eq!(
        String::from_utf8_lossy(&shown.stdout),
        "---\ndescription: Ship it\n---\nShip $ARGUMENTS\n"
    );
    json_out(&run(&[
        "commands", "remove", "git:ship", "--scope", "project", "--json",
    ]));
    let missing = run(&["commands", "show", "git:ship", "--json"]);
    assert_eq!(missing.status.code(), Some(1));
    let error: serde_json::Value = serde_json::from_slice(&missing.stderr).expect("JSON error");
    assert_eq!(error["error"]["kind"], "not_found");

    // Memory files.
    std::fs::write(sandbox.project.join("CLAUDE.md"), "# Project\n").unwrap();
    let listed = json_out(&run(&["memory", "list", "--json"]));
    let paths: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["path"].as_str())
        .collect();
    let user_memory = sandbox.config_dir.join("CLAUDE.md");
    assert_eq!(
        paths,
        [
            user_memory.to_str().unwrap(),
            sandbox.project.join("CLAUDE.md").to_str().unwrap()
        ]
    );
    let mut save = home.anyon_command(&["config", "memory", "save", user_memory.to_str().unwrap(), "--json"]);
    save.env("CLAUDE_CONFIG_DIR", &sandbox.config_dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = save.spawn().unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), b"# Mine\n").unwrap();
    json_out(&child.wait_with_output().unwrap());
    let shown = run(&["memory", "show", user_memory.to_str().unwrap()]);
    assert_eq!(String::from_utf8_lossy(&shown.stdout), "# Mine\n");
    let refused = run(&[
        "memory",
        "save",
        "notes.md",
        "--file",
        user_memory.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(refused.status.code(), Some(1), "only memory files are written");

    // A malformed file is reported as such and left alone.
    std::fs::write(&user_file, "{oops").unwrap();
    let refused = run(&["set", "model", "haiku", "--json"]);
    assert_eq!(refused.status.code(), Some(1));
    let error: serde_json::Value = serde_json::from_slice(&refused.stderr).expect("JSON error");
    assert_eq!(error["error"]["kind"], "malformed");
    assert_eq!(std::fs::read_to_string(&user_file).unwrap(), "{oops");
}
