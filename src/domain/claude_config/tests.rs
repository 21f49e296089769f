use serde_json::json;

use super::commands::{self, CommandScope};
use super::view::{self, SettingsView};
use super::*;

const USER_FILE: &str = r#"{
  "model": "opus",
  "permissions": {
    "allow": [
      "Bash(ls:*)"
    ],
    "defaultMode": "default"
  },
  "env": {
    "FOO": "user"
  },
  "statusLine": {
    "type": "command",
    "command": "echo hi"
  }
}
"#;

fn set(key: &str, value: Option<serde_json::Value>) -> SettingsEdit {
    SettingsEdit::Set { key: key.into(), value }
}

#[test]
fn an_edit_changes_only_its_key_and_reverting_gives_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("settings.json");
    std::fs::write(&path, USER_FILE).unwrap();
    let read = SettingsFile::read(&path).unwrap();
    let edited = SettingsFile::edit(
        &path,
        SettingsScope::Project,
        Some(&read.version),
        &set("env.BAR", Some(json!("1"))),
    )
    .unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("\"BAR\": \"1\""), "{text}");
    let keys: Vec<&String> = edited.root.keys().collect();
    assert_eq!(keys, ["model", "permissions", "env", "statusLine"], "order kept");
    assert_eq!(
        edited.root["statusLine"],
        json!({"type": "command", "command": "echo hi"})
    );
    SettingsFile::edit(
        &path,
        SettingsScope::Project,
        Some(&edited.version),
        &set("env.BAR", None),
    )
    .unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), USER_FILE);
}

#[test]
fn a_file_changed_since_it_was_read_is_not_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("settings.json");
    std::fs::write(&path, USER_FILE).unwrap();
    let read = SettingsFile::read(&path).unwrap();
    let theirs = USER_FILE.replace("opus", "sonnet");
    std::fs::write(&path, &theirs).unwrap();
    let error = SettingsFile::edit(
        &path,
        SettingsScope::Project,
        Some(&read.version),
        &set("model", Some(json!("haiku"))),
    )
    .unwrap_err();
    match &error {
        ConfigError::Changed { text, .. } => assert_eq!(text.as_deref(), Some(theirs.as_str())),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(error.kind(), "changed_on_disk");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), theirs);
    // A file created by someone else after it was read as missing counts as changed too.
    let fresh = dir.path().join("new.json");
    let absent = SettingsFile::read(&fresh).unwrap().version;
    std::fs::write(&fresh, "{}").unwrap();
    assert!(matches!(
        SettingsFile::edit(&fresh, SettingsScope::Project, Some(&absent), &set("a", Some(json!(1)))),
        Err(ConfigError::Changed { .. })
    ));
}

#[test]
fn malformed_json_is_reported_with_its_text_and_left_intact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("settings.json");
    let broken = "{ \"hooks\": { ,, }\n";
    std::fs::write(&path, broken).unwrap();
    let error = SettingsFile::edit(&path, SettingsScope::Project, None, &set("model", Some(json!("x")))).unwrap_err();
    match &error {
        ConfigError::Malformed { text, error, .. } => {
            assert_eq!(text, broken);
            assert!(error.contains("line 1"), "{error}");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(std::fs::read_to_string(&path).unwrap(), broken);
    let view = SettingsView::load(SettingsScope::User, path.clone()).unwrap();
    assert_eq!(view.malformed.as_ref().map(|m| m.text.as_str()), Some(broken));
    std::fs::write(&path, "[1]").unwrap();
    assert!(matches!(SettingsFile::read(&path), Err(ConfigError::Malformed { .. })));
}

#[test]
fn hooks_are_added_into_their_matcher_group_and_removed_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".claude/settings.json");
    let add = |matcher: &str, command: &str| SettingsEdit::AddHook {
        event: "PreToolUse".into(),
        matcher: Some(matcher.into()),
        command: command.into(),
        timeout_secs: Some(5),
    };
    SettingsFile::edit(&path, SettingsScope::Project, None, &add("Bash", "echo one")).unwrap();
    SettingsFile::edit(&path, SettingsScope::Project, None, &add("Edit|Write", "echo two")).unwrap();
    let file = SettingsFile::edit(&path, SettingsScope::Project, None, &add("Bash", "echo three")).unwrap();
    assert_eq!(
        file.root["hooks"]["PreToolUse"],
        json!([
            {"matcher": "Bash", "hooks": [
                {"type": "command", "command": "echo one", "timeout": 5},
                {"type": "command", "command": "echo three", "timeout": 5}
            ]},
            {"matcher": "Edit|Write", "hooks": [{"type": "command", "command": "echo two", "timeout": 5}]}
        ])
    );
    let view = SettingsView::of(SettingsScope::Project, &file);
    assert_eq!(view.hooks[0].0, "PreToolUse");
    assert_eq!(view.hooks[0].1[0].hooks[1].command, "echo three");
    let remove = |group, hook| SettingsEdit::RemoveHook {
        event: "PreToolUse".into(),
        group,
        hook,
    };
    assert!(matches!(
        SettingsFile::edit(&path, SettingsScope::Project, None, &remove(0, 7)),
        Err(ConfigError::NotFound(_))
    ));
    let replaced = SettingsFile::edit(
        &path,
        SettingsScope::Project,
        None,
        &SettingsEdit::ReplaceHook {
            event: "PreToolUse".into(),
            group: 0,
            hook: 1,
            command: "echo 3".into(),
            timeout_secs: None,
        },
    )
    .unwrap();
    assert_eq!(
        replaced.root["hooks"]["PreToolUse"][0]["hooks"][1],
        json!({"type": "command", "command": "echo 3"})
    );
    SettingsFile::edit(&path, SettingsScope::Project, None, &remove(1, 0)).unwrap();
    SettingsFile::edit(&path, SettingsScope::Project, None, &remove(0, 0)).unwrap();
    let file = SettingsFile::edit(&path, SettingsScope::Project, None, &remove(0, 0)).unwrap();
    assert_eq!(file.root["hooks"], json!({}));
    assert!(matches!(
        SettingsFile::edit(
            &path,
            SettingsScope::Project,
            None,
            &SettingsEdit::AddHook {
                event: "Stop".into(),
                matcher: None,
                command: " ".into(),
                timeout_secs: None
            }
        ),
        Err(ConfigError::Invalid(_))
    ));
}

#[test]
fn set_refuses_to_walk_through_a_non_object() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("settings.json");
    std::fs::write(&path, "{\"env\": 3}").unwrap();
    assert!(matches!(
        SettingsFile::edit(&path, SettingsScope::Project, None, &set("env.FOO", Some(json!("x")))),
        Err(ConfigError::Invalid(_))
    ));
    assert!(matches!(
        SettingsFile::edit(&path, SettingsScope::Project, None, &set("a..b", None)),
        Err(ConfigError::Invalid(_))
    ));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"env\": 3}");
}

#[test]
fn the_effective_merge_joins_permissions_and_lets_later_scopes_win_env() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, value: serde_json::Value| {
        let path = dir.path().join(name);
        std::fs::write(&path, value.to_string()).unwrap();
        path
    };
    let user = write(
        "u.json",
        json!({"permissions": {"allow": ["Read", "Bash(ls:*)"], "defaultMode": "default"}, "env": {"A": "u", "B": "u"}}),
    );
    let project = write(
        "p.json",
        json!({"permissions": {"allow": ["Read", "Edit"], "deny": ["WebFetch"], "additionalDirectories": ["../lib"]},
               "env": {"B": "p"}}),
    );
    let local = write(
        "l.json",
        json!({"permissions": {"defaultMode": "acceptEdits", "ask": ["Bash(rm:*)"]}, "env": {"C": 1}}),
    );
    let views: Vec<SettingsView> = [
        (SettingsScope::Local, local),
        (SettingsScope::User, user),
        (SettingsScope::Project, project),
    ]
    .into_iter()
    .map(|(scope, path)| SettingsView::load(scope, path).unwrap())
    .collect();
    let merged = view::effective(&views);
    assert_eq!(merged.permissions.allow, ["Read", "Bash(ls:*)", "Edit"]);
    assert_eq!(merged.permissions.deny, ["WebFetch"]);
    assert_eq!(merged.permissions.ask, ["Bash(rm:*)"]);
    assert_eq!(merged.permissions.default_mode.as_deref(), Some("acceptEdits"));
    assert_eq!(merged.permissions.additional_directories, ["../lib"]);
    assert_eq!(
        merged.env["A"],
        EnvEntry {
            value: "u".into(),
            scope: SettingsScope::User
        }
    );
    assert_eq!(
        merged.env["B"],
        EnvEntry {
            value: "p".into(),
            scope: SettingsScope::Project
        }
    );
    assert_eq!(
        merged.env["C"],
        EnvEntry {
            value: "1".into(),
            scope: SettingsScope::Local
        }
    );
}

#[test]
fn scope_paths() {
    let config = Path::new("/c");
    let project = Path::new("/p");
    assert_eq!(
        settings_path(config, None, SettingsScope::User).unwrap(),
        Path::new("/c/settings.json")
    );
    assert_eq!(
        settings_path(config, Some(project), SettingsScope::Local).unwrap(),
        Path::new("/p/.claude/settings.local.json")
    );
    assert!(matches!(
        settings_path(config, None, SettingsScope::Project),
        Err(ConfigError::NeedsProject(SettingsScope::Project))
    ));
}

#[test]
fn frontmatter_fields_lists_and_plain_text() {
    let (fields, body) = commands::parse_frontmatter(
        "---\ndescription: \"Run the tests\"\nallowed-tools:\n  - Bash(cargo test:*)\n  - Read\n---\nRun $ARGUMENTS\n",
    );
    assert_eq!(
        fields,
        [
            ("description".to_owned(), "Run the tests".to_owned()),
            ("allowed-tools".to_owned(), "Bash(cargo test:*), Read".to_owned())
        ]
    );
    assert_eq!(body, "Run $ARGUMENTS\n");
    let (fields, body) = commands::parse_frontmatter("---\nno end\n");
    assert!(fields.is_empty());
    assert_eq!(body, "---\nno end\n");
    assert_eq!(commands::parse_frontmatter("plain").1, "plain");
}

#[test]
fn commands_are_created_listed_with_namespaces_edited_and_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let commands_dir = dir.path().join("commands");
    let text = commands::compose(Some("Test it"), Some("Bash"), "Run the tests for $ARGUMENTS");
    let created = commands::save(&commands_dir, CommandScope::User, "frontend:test", &text, None, false).unwrap();
    assert_eq!(created.name, "frontend:test");
    assert_eq!(created.namespace.as_deref(), Some("frontend"));
    assert_eq!(created.description.as_deref(), Some("Test it"));
    assert_eq!(created.allowed_tools.as_deref(), Some("Bash"));
    assert_eq!(created.body, "Run the tests for $ARGUMENTS\n");
    commands::save(&commands_dir, CommandScope::User, "review", "Review.\n", None, false).unwrap();
    assert!(matches!(
        commands::save(&commands_dir, CommandScope::User, "review", "again", None, false),
        Err(ConfigError::Invalid(_))
    ));
    assert!(commands::save(&commands_dir, CommandScope::User, "../escape", "x", None, true).is_err());
    let listed = commands::list(&commands_dir, CommandScope::User).unwrap();
    let names: Vec<&str> = listed.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["frontend:test", "review"]);
    assert_eq!(listed[1].namespace, None);

    // Editing with a stale version is refused.
    std::fs::write(&listed[1].path, "changed elsewhere").unwrap();
    assert!(matches!(
        commands::save(
            &commands_dir,
            CommandScope::User,
            "review",
            "mine",
            Some(&listed[1].version),
            false
        ),
        Err(ConfigError::Changed { .. })
    ));
    let fresh = commands::read(&commands_dir, &listed[1].path, CommandScope::User).unwrap();
    let edited = commands::save(
        &commands_dir,
        CommandScope::User,
        "review",
        "mine\n",
        Some(&fresh.version),
        false,
    )
    .unwrap();
    assert_eq!(edited.text, "mine\n");

    commands::delete(&commands_dir, "frontend:test").unwrap();
    assert!(
        !commands_dir.join("frontend").exists(),
        "empty namespace folder removed"
    );
    assert!(matches!(
        commands::delete(&commands_dir, "frontend:test"),
        Err(ConfigError::NotFound(_))
    ));
    assert_eq!(
        commands::list(&dir.path().join("none"), CommandScope::User).unwrap(),
        []
    );
}

#[test]
fn every_scope_round_trips_byte_for_byte_with_unrelated_keys_kept() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    let project = dir.path().join("project");
    let text = r#"{
  "$schema": "https://json.schemastore.org/claude-code-settings.json",
  "hooks": {
    "PreToolUse": [
      {
        "matcher": "Bash",
        "hooks": [
          {
            "type": "command",
            "command": "echo one"
          }
        ]
      }
    ]
  },
  "permissions": {
    "allow": [
      "Read"
    ],
    "deny": []
  },
  "env": {
    "A": "1"
  },
  "includeCoAuthoredBy": false,
  "statusLine": {
    "type": "command",
    "command": "printf x",
    "padding": 0
  }
}
"#;
    for scope in SettingsScope::ALL {
        let path = settings_path(&config, Some(&project), scope).unwrap();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        let steps = [
            SettingsEdit::AddHook {
                event: "PreToolUse".into(),
                matcher: Some("Bash".into()),
                command: "echo two".into(),
                timeout_secs: None,
            },
            set("permissions.allow", Some(json!(["Read", "Edit"]))),
            set("env.B", Some(json!("2"))),
        ];
        for step in &steps {
            SettingsFile::edit(&path, SettingsScope::Project, None, step).unwrap();
        }
        let changed = SettingsFile::read(&path).unwrap();
        assert_eq!(changed.root["statusLine"]["padding"], 0, "{scope}");
        assert_eq!(
            changed.root["hooks"]["PreToolUse"][0]["hooks"][1]["command"],
            "echo two"
        );
        let undo = [
            SettingsEdit::RemoveHook {
                event: "PreToolUse".into(),
                group: 0,
                hook: 1,
            },
            set("permissions.allow", Some(json!(["Read"]))),
            set("env.B", None),
        ];
        for step in &undo {
            SettingsFile::edit(&path, SettingsScope::Project, None, step).unwrap();
        }
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text, "{scope} bytes");
    }
}
