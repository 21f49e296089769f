use super::*;

fn rows(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// Rows exactly as ANYON wrote them before the settings were typed.
const TODAYS_ROWS: &[(&str, &str)] = &[
    ("theme", "dark"),
    ("last_screen", "usage"),
    ("chat.last_project", "/home/ada/project"),
    ("claude.binary_path", "/opt/claude/bin/claude"),
    ("process.grace_secs", "12"),
    ("checkpoints.keep_last", "7"),
    ("checkpoints.keep_days", "0"),
    ("claude.env.http_proxy", "http://proxy:3128"),
    ("claude.env.https_proxy", "http://secure-proxy:3128"),
    ("claude.env.no_proxy", "localhost,.internal"),
    ("claude.env.extra", "# team\nTEAM=core\nexport B=2"),
    ("checkpoints.auto:/home/ada/project", "1"),
    ("checkpoints.auto:/home/ada/other", "0"),
    ("memory.draft:/home/ada/.claude/CLAUDE.md", "Be brief.\n"),
    ("memory.draft:/home/ada/project/CLAUDE.md", ""),
    ("storage.sql_history", "[\"SELECT 1\"]"),
    ("some.later.feature", "kept"),
];

#[test]
fn rows_written_in_todays_form_read_back_as_every_field() {
    let settings = Settings::from_rows(rows(TODAYS_ROWS));
    let expected = Settings {
        theme: Theme::Dark,
        last_screen: Some("usage".into()),
        last_project: Some("/home/ada/project".into()),
        claude_binary_path: Some("/opt/claude/bin/claude".into()),
        grace_secs: 12,
        keep_last: 7,
        keep_days: 0,
        checkpoint_max_file_mb: 256,
        env: ProxyEnv {
            http_proxy: "http://proxy:3128".into(),
            https_proxy: "http://secure-proxy:3128".into(),
            no_proxy: "localhost,.internal".into(),
            extra: "# team\nTEAM=core\nexport B=2".into(),
        },
        auto_checkpoints: BTreeSet::from(["/home/ada/project".into()]),
        memory_drafts: BTreeMap::from([("/home/ada/.claude/CLAUDE.md".into(), "Be brief.\n".into())]),
    };
    assert_eq!(settings, expected);
    assert!(settings.auto_checkpoints_on(Path::new("/home/ada/project")));
    assert!(!settings.auto_checkpoints_on(Path::new("/home/ada/other")));
    assert_eq!(
        settings.memory_draft(Path::new("/home/ada/.claude/CLAUDE.md")),
        Some("Be brief.\n")
    );
    assert_eq!(
        settings.retention(),
        Retention {
            keep_last: 7,
            keep_days: 0
        }
    );
}

#[test]
fn no_rows_and_unreadable_rows_give_the_defaults() {
    let defaults = Settings::default();
    assert_eq!(Settings::from_rows(Vec::new()), defaults);
    assert_eq!(defaults.grace_secs, 3, "as the process registry's own default");
    assert_eq!((defaults.keep_last, defaults.keep_days), (50, 30));
    assert_eq!(defaults.checkpoint_max_file_bytes(), 256 * 1024 * 1024);
    let bad = Settings::from_rows(rows(&[
        ("theme", "purple"),
        ("process.grace_secs", "0"),
        ("checkpoints.keep_last", "many"),
        ("checkpoints.keep_days", "-1"),
        ("checkpoints.max_file_mb", "0"),
        ("checkpoints.auto:/p", "yes"),
        ("claude.binary_path", "  "),
    ]));
    assert_eq!(bad, defaults);
    assert_eq!(
        Settings::from_rows(rows(&[("process.grace_secs", "301")])).grace_secs,
        3
    );
    assert_eq!(
        Settings::from_rows(rows(&[("process.grace_secs", " 300 ")])).grace_secs,
        300
    );
}

#[test]
fn every_setting_is_stored_in_todays_row_and_reads_back_as_applied() {
    let changes = [
        (Setting::Theme(Theme::Light), "theme", "light"),
        (Setting::LastScreen("storage".into()), "last_screen", "storage"),
        (Setting::LastProject("/p".into()), "chat.last_project", "/p"),
        (
            Setting::ClaudeBinaryPath(Some("/bin/claude".into())),
            "claude.binary_path",
            "/bin/claude",
        ),
        (Setting::ClaudeBinaryPath(None), "claude.binary_path", ""),
        (Setting::GraceSecs(30), "process.grace_secs", "30"),
        (Setting::KeepLast(2), "checkpoints.keep_last", "2"),
        (Setting::KeepDays(9), "checkpoints.keep_days", "9"),
        (Setting::CheckpointMaxFileMb(64), "checkpoints.max_file_mb", "64"),
        (
            Setting::HttpProxy("http://h".into()),
            "claude.env.http_proxy",
            "http://h",
        ),
        (
            Setting::HttpsProxy("http://s".into()),
            "claude.env.https_proxy",
            "http://s",
        ),
        (Setting::NoProxy("localhost".into()), "claude.env.no_proxy", "localhost"),
        (Setting::ExtraEnv("A=1".into()), "claude.env.extra", "A=1"),
        (
            Setting::AutoCheckpoints {
                project: "/p q".into(),
                on: true,
            },
            "checkpoints.auto:/p q",
            "1",
        ),
        (
            Setting::AutoCheckpoints {
                project: "/p q".into(),
                on: false,
            },
            "checkpoints.auto:/p q",
            "0",
        ),
        (
            Setting::MemoryDraft {
                path: "/m/CLAUDE.md".into(),
                text: "draft".into(),
            },
            "memory.draft:/m/CLAUDE.md",
            "draft",
        ),
        (
            Setting::MemoryDraft {
                path: "/m/CLAUDE.md".into(),
                text: String::new(),
            },
            "memory.draft:/m/CLAUDE.md",
            "",
        ),
    ];
    for (setting, key, value) in changes {
        assert_eq!(
            (setting.key().as_str(), setting.value().as_str()),
            (key, value),
            "{setting:?}"
        );
        let mut applied = Settings::default();
        applied.apply(&setting);
        assert_eq!(Settings::from_rows(rows(&[(key, value)])), applied, "{setting:?}");
        assert_eq!(setting.validate(), Ok(()), "{setting:?}");
    }
}

#[test]
fn a_grace_out_of_range_and_bad_env_lines_are_refused_clearly() {
    for secs in [0, 301] {
        let error = Setting::GraceSecs(secs).validate().unwrap_err();
        assert_eq!(error, SettingError::GraceOutOfRange(secs));
        assert!(error.to_string().contains("1 to 300 seconds"), "{error}");
    }
    assert_eq!(Setting::GraceSecs(1).validate(), Ok(()));
    for mb in [0, 65_537] {
        let error = Setting::CheckpointMaxFileMb(mb).validate().unwrap_err();
        assert_eq!(error, SettingError::MaxFileOutOfRange(mb));
    }
    let error = Setting::ExtraEnv("A=1\nnot a variable".into()).validate().unwrap_err();
    assert_eq!(
        error.to_string(),
        "extra environment variables, line 2: expected NAME=value, got \"not a variable\""
    );
}

#[test]
fn the_table_keeps_rows_of_unknown_keys_and_a_save_writes_one_row() {
    let dir = tempfile::tempdir().unwrap();
    let db = db::Db::open(&dir.path().join("anyon.db")).unwrap();
    let conn = db.writer();
    for (key, value) in TODAYS_ROWS {
        db::set_setting(&conn, key, value).unwrap();
    }
    save(&conn, &Setting::Theme(Theme::Light)).unwrap();
    let settings = load(&conn).unwrap();
    assert_eq!(settings.theme, Theme::Light);
    assert_eq!(settings.grace_secs, 12);
    assert_eq!(
        db::get_setting(&conn, "some.later.feature").unwrap().as_deref(),
        Some("kept")
    );
    assert_eq!(sql_history(&conn).unwrap(), ["SELECT 1"]);
    set_sql_history(&conn, &["SELECT 2".into(), "SELECT 1".into()]).unwrap();
    assert_eq!(sql_history(&conn).unwrap(), ["SELECT 2", "SELECT 1"]);
    db::set_setting(&conn, "storage.sql_history", "not json").unwrap();
    assert_eq!(sql_history(&conn).unwrap(), Vec::<String>::new());
}

#[test]
fn settings_and_changes_go_through_serde() {
    let settings = Settings::from_rows(rows(TODAYS_ROWS));
    let json = serde_json::to_string(&settings).unwrap();
    assert_eq!(serde_json::from_str::<Settings>(&json).unwrap(), settings);
    assert_eq!(serde_json::from_str::<Settings>("{}").unwrap(), Settings::default());
    let change = Setting::AutoCheckpoints {
        project: "/p".into(),
        on: true,
    };
    let json = serde_json::to_string(&change).unwrap();
    assert_eq!(serde_json::from_str::<Setting>(&json).unwrap(), change);
}
