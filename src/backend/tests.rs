//! The backend's own tests: error events, settings, the ordered lane, shutdown, draining.

use super::*;
use crate::domain::claude::credentials::requests::ClaudeAuthSaveApiKey;
use crate::domain::dropped::ReadDroppedFile;
use crate::domain::settings::Theme;
use crate::domain::settings::requests::{LoadSettings, Reply as SettingsReply, SaveSetting};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn failed_commands_answer_with_a_clear_error_event() {
    let runtime = runtime();
    let dir = tempfile::tempdir().unwrap();
    let (backend, mut events) = Backend::open(runtime.handle().clone(), DataPaths::at(dir.path().into()));
    let request_id = backend.dispatch(ClaudeAuthSaveApiKey {
        api_key: crate::backend::command::Secret::new("not-a-key"),
        verify: false,
        base_url: None,
    });
    let event = runtime.block_on(async { events.rx.recv().await.unwrap() });
    match event {
        Event::Failed {
            request_id: id,
            command,
            error,
            ..
        } => {
            assert_eq!((id, command), (request_id, "claude_auth_save_api_key"));
            assert!(error.contains("sk-ant-"), "{error}");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn settings_round_trip_through_commands() {
    let runtime = runtime();
    let dir = tempfile::tempdir().unwrap();
    let (backend, _events) = Backend::open(runtime.handle().clone(), DataPaths::at(dir.path().into()));
    let saved = runtime
        .block_on(backend.call(SaveSetting {
            setting: Setting::Theme(Theme::Dark),
        }))
        .unwrap();
    assert_eq!(saved, Setting::Theme(Theme::Dark));
    let settings = runtime.block_on(backend.call(LoadSettings)).unwrap();
    assert_eq!(settings.theme, Theme::Dark);
    let conn = rusqlite::Connection::open(dir.path().join("anyon.db")).unwrap();
    assert_eq!(db::get_setting(&conn, "theme").unwrap().as_deref(), Some("dark"));
}

#[test]
fn refused_settings_leave_the_table_and_the_processes_alone() {
    let runtime = runtime();
    let dir = tempfile::tempdir().unwrap();
    let (backend, _events) = Backend::open(runtime.handle().clone(), DataPaths::at(dir.path().into()));
    for setting in [Setting::GraceSecs(0), Setting::ExtraEnv("not a variable".into())] {
        let error = runtime.block_on(backend.call(SaveSetting { setting })).unwrap_err();
        assert_eq!(error.kind(), "invalid", "{error}");
    }
    let settings = runtime.block_on(backend.call(LoadSettings)).unwrap();
    assert_eq!(settings, Settings::default());
}

#[test]
fn ordered_commands_land_in_dispatch_order() {
    let runtime = runtime();
    let dir = tempfile::tempdir().unwrap();
    let (backend, mut events) = Backend::open(runtime.handle().clone(), DataPaths::at(dir.path().into()));
    for value in 0..50 {
        backend.dispatch(SaveSetting {
            setting: Setting::LastScreen(value.to_string()),
        });
    }
    let mut saved = Vec::new();
    while saved.len() < 50 {
        match runtime.block_on(events.rx.recv()).unwrap() {
            Event::Completed {
                output: Output::Settings(SettingsReply::SettingSaved(setting)),
                ..
            } => saved.push(setting.value()),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(saved, (0..50).map(|v| v.to_string()).collect::<Vec<_>>());
    let settings = runtime.block_on(backend.call(LoadSettings)).unwrap();
    assert_eq!(settings.last_screen.as_deref(), Some("49"), "the last choice wins");
}

#[test]
fn shutdown_waits_for_queued_setting_writes() {
    let runtime = runtime();
    let dir = tempfile::tempdir().unwrap();
    let (backend, _events) = Backend::open(runtime.handle().clone(), DataPaths::at(dir.path().into()));
    for value in 0..20 {
        backend.dispatch(SaveSetting {
            setting: Setting::LastScreen(value.to_string()),
        });
    }
    backend.shutdown(Duration::ZERO);
    let conn = rusqlite::Connection::open(dir.path().join("anyon.db")).unwrap();
    assert_eq!(db::get_setting(&conn, "last_screen").unwrap().as_deref(), Some("19"));
}

#[test]
fn drain_stops_at_the_budget_and_reports_what_remains() {
    let runtime = runtime();
    let dir = tempfile::tempdir().unwrap();
    let (backend, mut events) = Backend::open(runtime.handle().clone(), DataPaths::at(dir.path().into()));
    for running in 0..100 {
        assert!(backend.sink().try_send(Event::ProcessCount { running }));
    }
    let mut seen = 0;
    let more = events.drain(Duration::ZERO, |_| seen += 1);
    assert_eq!(seen, 1, "a spent budget still applies one event per frame");
    assert!(more);
    let more = events.drain(Duration::from_secs(5), |_| seen += 1);
    assert_eq!(seen, 100);
    assert!(!more);
}

#[test]
fn dropped_files_are_read_whole_or_refused_when_too_large() {
    let runtime = runtime();
    let dir = tempfile::tempdir().unwrap();
    let (backend, _events) = Backend::open(runtime.handle().clone(), DataPaths::at(dir.path().into()));
    let image = dir.path().join("shot.png");
    std::fs::write(&image, vec![7u8; 4096]).unwrap();
    let read = runtime.block_on(backend.execute(ReadDroppedFile {
        path: image.clone(),
        max_bytes: 4096,
    }));
    match read {
        Ok(Output::Dropped(crate::domain::dropped::Reply::FileRead(file))) => {
            assert_eq!((file.path, file.bytes.len()), (image.clone(), 4096))
        }
        other => panic!("unexpected {other:?}"),
    }
    let refused = runtime
        .block_on(backend.execute(ReadDroppedFile {
            path: image.clone(),
            max_bytes: 4095,
        }))
        .unwrap_err();
    assert!(refused.to_string().contains("larger than"), "{refused}");
    assert!(refused.to_string().contains("shot.png"), "{refused}");
    let missing = runtime
        .block_on(backend.execute(ReadDroppedFile {
            path: dir.path().join("gone.png"),
            max_bytes: 10,
        }))
        .unwrap_err();
    assert_eq!(missing.kind(), "io");
}

#[test]
fn a_projects_files_are_listed_and_matched_through_typed_requests() {
    use crate::domain::project_files::requests::{ListProjectFiles, MatchProjectFiles};
    let runtime = runtime();
    let dir = tempfile::tempdir().unwrap();
    let (backend, _events) = Backend::open(runtime.handle().clone(), DataPaths::at(dir.path().join("data")));
    let project = dir.path().join("project");
    std::fs::create_dir_all(project.join("src/ui")).unwrap();
    std::fs::write(project.join("src/ui/composer.rs"), "").unwrap();
    std::fs::write(project.join("notes.md"), "").unwrap();
    let files = runtime
        .block_on(backend.call(ListProjectFiles { root: project.clone() }))
        .unwrap();
    assert_eq!(files.iter().collect::<Vec<_>>(), ["notes.md", "src/ui/composer.rs"]);
    let matches = runtime
        .block_on(backend.call(MatchProjectFiles {
            files,
            query: "comp".into(),
            limit: 10_000,
        }))
        .unwrap();
    assert_eq!(matches.found.len(), 1);
    assert_eq!(matches.found[0].path, "src/ui/composer.rs");
    let missing = runtime
        .block_on(backend.call(ListProjectFiles {
            root: project.join("notes.md"),
        }))
        .unwrap_err();
    assert_eq!(missing.kind(), "not_a_folder");
}
