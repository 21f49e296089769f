//! Discovery against temporary directories with fake `claude` scripts.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::*;

const GOOD: &str = "#!/bin/sh\necho \"2.1.197 (Claude Code)\"\n";
const OLDER: &str = "#!/bin/sh\necho \"2.0.5 (Claude Code)\"\n";
const GARBAGE: &str = "#!/bin/sh\necho \"hello, I am some other program\"\n";
const HANGS: &str = "#!/bin/sh\nsleep 30\n";
const FAILS: &str = "#!/bin/sh\necho \"2.1.197 (Claude Code)\"\nexit 3\n";

/// A temporary home with nothing in it, and inputs that see only it.
fn sandbox() -> (tempfile::TempDir, DiscoveryInputs) {
    let dir = tempfile::tempdir().expect("temp dir");
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).expect("home");
    let inputs = DiscoveryInputs {
        home: Some(home),
        version_timeout: Duration::from_secs(5),
        ..DiscoveryInputs::default()
    };
    (dir, inputs)
}

#[cfg(unix)]
fn script(path: &Path, body: &str, executable: bool) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(path.parent().expect("parent")).expect("dirs");
    std::fs::write(path, body).expect("write script");
    let mode = if executable { 0o755 } else { 0o644 };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    path.to_path_buf()
}

fn place<'a>(discovery: &'a Discovery, path: &Path) -> &'a SearchedPlace {
    discovery
        .searched
        .iter()
        .find(|place| place.path == path)
        .unwrap_or_else(|| panic!("{} was not searched: {:#?}", path.display(), discovery.searched))
}

#[test]
fn parses_versions() {
    let version = ClaudeVersion::parse("2.1.197 (Claude Code)\n").expect("parses");
    assert_eq!((version.major, version.minor, version.patch), (2, 1, 197));
    assert_eq!(version.to_string(), "2.1.197");
    assert_eq!(version.raw, "2.1.197 (Claude Code)");
    assert!(ClaudeVersion::parse("\n  1.0.44 (Claude Code)").is_some());
    assert_eq!(
        ClaudeVersion::parse("2.2.0-beta.1 (Claude Code)").map(|v| v.minor),
        Some(2)
    );
    for output in [
        "",
        "hello",
        "2.1.197",
        "2.1 (Claude Code)",
        "a.b.c (Claude Code)",
        "1.2.3.4 (Claude Code)",
    ] {
        assert_eq!(ClaudeVersion::parse(output), None, "{output:?}");
    }
    assert!(ClaudeVersion::parse("2.0.5 (Claude Code)") < ClaudeVersion::parse("2.1.0 (Claude Code)"));
}

#[test]
fn reads_npmrc_prefix() {
    let home = Path::new("/home/user");
    assert_eq!(npmrc_prefix("prefix=~/npm\n", home), Some(home.join("npm")));
    assert_eq!(
        npmrc_prefix("color=false\nprefix = \"${HOME}/.global\"\n", home),
        Some(PathBuf::from("/home/user/.global"))
    );
    assert_eq!(npmrc_prefix("# prefix=/nope\nregistry=x\n", home), None);
    assert_eq!(npmrc_prefix("prefix=/a\nprefix=/b\n", home), Some(PathBuf::from("/b")));
    assert_eq!(npmrc_prefix("prefix=\n", home), None);
}

#[cfg(unix)]
#[test]
fn searches_in_order_and_reports_each_place() {
    let (dir, mut inputs) = sandbox();
    let home = inputs.home.clone().expect("home");
    let path_dir = dir.path().join("bin");
    let on_path = script(&path_dir.join("claude"), GOOD, true);
    let not_executable = script(&home.join(".local/bin/claude"), GOOD, false);
    let garbage = script(&home.join(".claude/local/claude"), GARBAGE, true);
    let env_bin = script(&dir.path().join("custom/claude"), OLDER, true);
    inputs.path_var = Some(std::env::join_paths([&path_dir]).expect("PATH"));
    inputs.env_bin = Some(env_bin.clone().into_os_string());

    let discovery = discover(&inputs);
    let found: Vec<(&Path, Source)> = discovery
        .installations
        .iter()
        .map(|installation| (installation.path.as_path(), installation.source))
        .collect();
    assert_eq!(
        found,
        [
            (env_bin.as_path(), Source::EnvVar),
            (on_path.as_path(), Source::Path),
            (garbage.as_path(), Source::InstallLocation),
        ]
    );
    assert_eq!(
        discovery.installations[0].version.as_ref().map(ToString::to_string),
        Ok("2.0.5".to_owned())
    );
    assert!(matches!(
        &discovery.installations[2].version,
        Err(VersionError::Unrecognized { output }) if output.contains("other program")
    ));
    // The environment variable wins over PATH: it is the first that runs.
    assert_eq!(
        discovery.chosen().map(|chosen| chosen.path.as_path()),
        Some(env_bin.as_path())
    );
    assert_eq!(place(&discovery, &not_executable).outcome, PlaceOutcome::NotExecutable);
    assert_eq!(
        place(&discovery, &home.join(".bun/bin/claude")).outcome,
        PlaceOutcome::Missing
    );
    // The order of the searched list is the order of the rules.
    let sources: Vec<Source> = discovery.searched.iter().map(|place| place.source).collect();
    let first_install = sources.iter().position(|source| *source == Source::InstallLocation);
    assert_eq!(&sources[..2], [Source::EnvVar, Source::Path]);
    assert_eq!(first_install, Some(2));
}

#[cfg(unix)]
#[test]
fn saved_path_is_chosen_even_when_it_does_not_run() {
    let (dir, mut inputs) = sandbox();
    let path_dir = dir.path().join("bin");
    script(&path_dir.join("claude"), GOOD, true);
    let saved = script(&dir.path().join("saved/claude"), FAILS, true);
    inputs.path_var = Some(std::env::join_paths([&path_dir]).expect("PATH"));
    inputs.saved_path = Some(saved.clone());

    let discovery = discover(&inputs);
    let chosen = discovery.chosen().expect("chosen");
    assert_eq!(chosen.path, saved);
    assert_eq!(chosen.source, Source::Setting);
    assert!(matches!(chosen.version, Err(VersionError::Failed { .. })));
    assert!(discovery.installations[1].runs());

    // A saved path that is gone falls back to the first that runs, and says it looked there.
    let gone = dir.path().join("gone/claude");
    inputs.saved_path = Some(gone.clone());
    let discovery = discover(&inputs);
    assert_eq!(place(&discovery, &gone).outcome, PlaceOutcome::Missing);
    assert_eq!(discovery.chosen().map(|chosen| chosen.source), Some(Source::Path));
}

#[cfg(unix)]
#[test]
fn same_binary_through_a_symlink_is_listed_once() {
    let (dir, mut inputs) = sandbox();
    let home = inputs.home.clone().expect("home");
    let real = script(&home.join(".local/bin/claude"), GOOD, true);
    let path_dir = dir.path().join("bin");
    std::fs::create_dir_all(&path_dir).expect("bin");
    let link = path_dir.join("claude");
    std::os::unix::fs::symlink(&real, &link).expect("symlink");
    // The same directory twice on PATH is searched once.
    inputs.path_var = Some(std::env::join_paths([&path_dir, &path_dir]).expect("PATH"));

    let discovery = discover(&inputs);
    assert_eq!(discovery.installations.len(), 1);
    assert_eq!(discovery.installations[0].path, link);
    assert_eq!(
        discovery.installations[0].canonical_path,
        std::fs::canonicalize(&real).expect("canonical")
    );
    assert_eq!(place(&discovery, &real).outcome, PlaceOutcome::SameAs(link.clone()));
    assert_eq!(discovery.searched.iter().filter(|place| place.path == link).count(), 1);
}

#[cfg(unix)]
#[test]
fn a_hanging_binary_times_out() {
    let (dir, mut inputs) = sandbox();
    let hangs = script(&dir.path().join("hangs/claude"), HANGS, true);
    let path_dir = dir.path().join("bin");
    let good = script(&path_dir.join("claude"), GOOD, true);
    inputs.env_bin = Some(hangs.clone().into_os_string());
    inputs.path_var = Some(std::env::join_paths([&path_dir]).expect("PATH"));
    inputs.version_timeout = Duration::from_millis(300);

    let started = Instant::now();
    let discovery = discover(&inputs);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(
        discovery.installations[0].version,
        Err(VersionError::TimedOut { timeout_ms: 300 })
    );
    assert_eq!(discovery.chosen().map(|chosen| chosen.path.clone()), Some(good));
}

#[cfg(unix)]
#[test]
fn install_locations_npm_and_nvm() {
    let (dir, mut inputs) = sandbox();
    let home = inputs.home.clone().expect("home");
    let npmrc_prefix_dir = dir.path().join("npmrc-prefix");
    std::fs::write(home.join(".npmrc"), format!("prefix={}\n", npmrc_prefix_dir.display())).expect("npmrc");
    inputs.npm_config_prefix = Some(dir.path().join("env-prefix").into_os_string());
    let old = script(&home.join(".nvm/versions/node/v9.11.2/bin/claude"), OLDER, true);
    let new = script(&home.join(".nvm/versions/node/v20.1.0/bin/claude"), GOOD, true);

    let discovery = discover(&inputs);
    let paths: Vec<&Path> = discovery.searched.iter().map(|place| place.path.as_path()).collect();
    let index = |path: &Path| {
        paths
            .iter()
            .position(|searched| *searched == path)
            .unwrap_or_else(|| panic!("{} not searched", path.display()))
    };
    let env_prefix = index(&dir.path().join("env-prefix/bin/claude"));
    let npmrc = index(&npmrc_prefix_dir.join("bin/claude"));
    let npm_global = index(&home.join(".npm-global/bin/claude"));
    // Newest node first: numeric order, not text order (v20 > v9).
    assert!(env_prefix < npmrc && npmrc < npm_global && npm_global < index(&new) && index(&new) < index(&old));
    assert_eq!(discovery.chosen().map(|chosen| chosen.path.clone()), Some(new));
    assert_eq!(discovery.installations.len(), 2);
}

#[test]
fn nothing_found_lists_every_place() {
    let (dir, mut inputs) = sandbox();
    let home = inputs.home.clone().expect("home");
    let path_dir = dir.path().join("empty-bin");
    inputs.path_var = Some(std::env::join_paths([&path_dir]).expect("PATH"));
    inputs.system_dirs = vec![dir.path().join("system")];

    let discovery = discover(&inputs);
    assert!(discovery.installations.is_empty());
    assert_eq!(discovery.chosen, None);
    assert!(
        discovery
            .searched
            .iter()
            .all(|place| place.outcome == PlaceOutcome::Missing)
    );
    let name = binary_names()[0];
    for expected in [
        path_dir.join(name),
        home.join(".claude/local").join(name),
        home.join(".local/bin").join(name),
        dir.path().join("system").join(name),
    ] {
        place(&discovery, &expected);
    }
}

#[test]
fn cache_keeps_the_result_until_invalidated() {
    let (_dir, inputs) = sandbox();
    let cache = ClaudeBinaryCache::new();
    let searches = AtomicUsize::new(0);
    let search = || {
        searches.fetch_add(1, Ordering::SeqCst);
        inputs.clone()
    };
    assert!(cache.get().is_none());
    let first = cache.get_or_discover(search);
    let second = cache.get_or_discover(search);
    assert!(Arc::ptr_eq(&first, &second));
    assert_eq!(searches.load(Ordering::SeqCst), 1);
    assert!(cache.get().is_some());
    cache.invalidate();
    assert!(cache.get().is_none());
    let third = cache.get_or_discover(search);
    assert!(!Arc::ptr_eq(&first, &third));
    assert_eq!(searches.load(Ordering::SeqCst), 2);
}
