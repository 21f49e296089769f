use std::fs;
use std::path::Path;

use super::*;

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn paths(list: &FileList) -> Vec<&str> {
    list.iter().collect()
}

fn found(files: &FileList, query: &str) -> Vec<String> {
    find(files, query, MAX_SHOWN)
        .found
        .into_iter()
        .map(|m| m.path)
        .collect()
}

#[test]
fn lists_nested_files_sorted_with_slashes() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "src/ui/chat/composer.rs", "");
    write(dir.path(), "src/lib.rs", "");
    write(dir.path(), "README.md", "");
    fs::create_dir_all(dir.path().join("empty/folder")).unwrap();
    let list = list(dir.path()).unwrap();
    assert_eq!(paths(&list), ["README.md", "src/lib.rs", "src/ui/chat/composer.rs"]);
    assert_eq!(list.len(), 3);
    assert_eq!(list.get(1), Some("src/lib.rs"));
    assert_eq!(list.get(3), None);
    assert_eq!(list.root(), dir.path());
    assert!(!list.truncated());
}

#[test]
fn gitignore_is_honoured_and_git_is_left_out_but_hidden_files_stay() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, ".gitignore", "target/\n*.log\n!keep.log\n");
    write(root, "target/debug/anyon", "");
    write(root, "build.log", "");
    write(root, "keep.log", "");
    write(root, "sub/.gitignore", "secret.txt\n");
    write(root, "sub/secret.txt", "");
    write(root, "sub/open.txt", "");
    write(root, ".git/HEAD", "ref: refs/heads/main\n");
    write(root, ".git/objects/ab/cdef", "");
    write(root, ".github/workflows/ci.yml", "");
    write(root, ".env.example", "");
    let list = list(root).unwrap();
    assert_eq!(
        paths(&list),
        [
            ".env.example",
            ".github/workflows/ci.yml",
            ".gitignore",
            "keep.log",
            "sub/.gitignore",
            "sub/open.txt"
        ]
    );
}

#[test]
fn a_git_file_of_a_worktree_is_left_out_too() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), ".git", "gitdir: elsewhere\n");
    write(dir.path(), "main.rs", "");
    assert_eq!(paths(&list(dir.path()).unwrap()), ["main.rs"]);
}

#[cfg(unix)]
#[test]
fn links_are_not_followed_out_of_the_project() {
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "private/key.pem", "");
    write(outside.path(), "notes.txt", "");
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "docs/guide.md", "");
    std::os::unix::fs::symlink(outside.path().join("private"), dir.path().join("linked-dir")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("notes.txt"), dir.path().join("linked-notes.txt")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("docs"), dir.path().join("docs-again")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("docs/guide.md"), dir.path().join("guide.md")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("gone"), dir.path().join("dangling")).unwrap();
    assert_eq!(
        paths(&list(dir.path()).unwrap()),
        ["docs/guide.md", "guide.md"],
        "only a link to a file inside the project is listed"
    );
}

#[cfg(unix)]
#[test]
fn names_that_are_not_utf8_are_counted_not_listed() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let name = std::ffi::OsStr::from_bytes(b"bad-\xff.txt");
    if fs::write(dir.path().join(name), "").is_err() {
        // Some filesystems refuse such names outright; nothing to list then.
        return;
    }
    write(dir.path(), "good.txt", "");
    write(dir.path(), "ünïcode/naïve.md", "");
    let list = list(dir.path()).unwrap();
    assert_eq!(paths(&list), ["good.txt", "ünïcode/naïve.md"]);
    assert_eq!(list.skipped(), 1);
    assert_eq!(
        found(&list, "naive"),
        ["ünïcode/naïve.md"],
        "accents match their plain letters"
    );
}

#[test]
fn a_missing_folder_or_a_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(list(&dir.path().join("nope")), Err(FilesError::Read { .. })));
    write(dir.path(), "file.txt", "");
    assert!(matches!(
        list(&dir.path().join("file.txt")),
        Err(FilesError::NotAFolder(_))
    ));
}

#[test]
fn fuzzy_matches_come_best_first() {
    let files = FileList::from_paths(
        "/p",
        [
            "src/ui/chat/composer.rs",
            "src/ui/chat/mod.rs",
            "docs/compose-and-send.md",
            "tests/chat_ui.rs",
            "src/state/chat/mod.rs",
            "Cargo.toml",
        ]
        .map(String::from),
    );
    // A whole file name beats letters scattered over folder names.
    assert_eq!(found(&files, "composer"), ["src/ui/chat/composer.rs"]);
    let compose = found(&files, "compose");
    assert_eq!(compose[0], "src/ui/chat/composer.rs", "{compose:?}");
    assert!(compose.contains(&"docs/compose-and-send.md".to_owned()));
    // Letters in order across the path, skipping characters.
    assert_eq!(found(&files, "uichcomp"), ["src/ui/chat/composer.rs"]);
    let chat = found(&files, "chat/mod");
    assert_eq!(chat.len(), 2, "{chat:?}");
    assert!(chat.iter().all(|p| p.ends_with("chat/mod.rs")));
    assert!(found(&files, "zzz").is_empty());
    // Case is ignored unless the query has a capital.
    assert_eq!(found(&files, "cargo"), ["Cargo.toml"]);
    assert!(found(&files, "CARGO").is_empty());
    // Scores never rise down the list.
    let all = find(&files, "s", MAX_SHOWN);
    assert!(all.found.windows(2).all(|w| w[0].score >= w[1].score), "{all:?}");
    assert_eq!(all.total, all.found.len());
}

#[test]
fn among_equal_scores_the_shorter_path_wins() {
    let files = FileList::from_paths("/p", ["a/deeper/main.rs", "src/main.rs", "main.rs"].map(String::from));
    assert_eq!(found(&files, "main.rs"), ["main.rs", "src/main.rs", "a/deeper/main.rs"]);
}

#[test]
fn the_positions_mark_the_matched_characters() {
    let files = FileList::from_paths("/p", ["src/lib.rs".to_owned()]);
    let hit = &find(&files, "slb", 10).found[0];
    let marked: String = hit
        .positions
        .iter()
        .map(|&i| hit.path.chars().nth(i as usize).unwrap())
        .collect();
    assert_eq!(marked, "slb");
}

#[test]
fn an_empty_query_lists_the_shallowest_files_first_and_the_list_is_capped() {
    let mut names: Vec<String> = (0..200).map(|i| format!("deep/er/file{i:03}.txt")).collect();
    names.push("z-top.txt".into());
    names.push("a/mid.txt".into());
    let files = FileList::from_paths("/p", names);
    let shown = find(&files, "", MAX_SHOWN);
    assert_eq!(shown.total, 202);
    assert_eq!(shown.found.len(), MAX_SHOWN);
    assert_eq!(shown.found[0].path, "z-top.txt");
    assert_eq!(shown.found[1].path, "a/mid.txt");
    assert_eq!(shown.found[2].path, "deep/er/file000.txt");
    // The cap keeps the best: the same 50 as sorting every match.
    let many = find(&files, "file", 5);
    assert_eq!(many.total, 200);
    let names: Vec<&str> = many.found.iter().map(|m| m.path.as_str()).collect();
    let every = find(&files, "file", 1000);
    let first: Vec<&str> = every.found.iter().take(5).map(|m| m.path.as_str()).collect();
    assert_eq!(names, first);
    assert!(find(&files, "file", 0).found.is_empty());
}

#[test]
fn the_list_is_compact_and_shows_its_size_not_its_paths() {
    let files = FileList::from_paths("/p", (0..1000).map(|i| format!("src/module{i}/file.rs")));
    let text: usize = files.iter().map(str::len).sum();
    assert!(
        files.heap_bytes() <= text + 4 * files.len() + 64,
        "{}",
        files.heap_bytes()
    );
    let shown = format!("{files:?}");
    assert!(shown.contains("files: 1000") && !shown.contains("module7"), "{shown}");
    let json = serde_json::to_value(&files).unwrap();
    assert_eq!(json["files"].as_array().unwrap().len(), 1000);
    assert_eq!(json["files"][0], "src/module0/file.rs");
}

#[test]
fn odd_queries_and_odd_paths_do_not_panic() {
    let files = FileList::from_paths(
        "/p",
        ["🦀/crab.rs", "e\u{301}cole.txt", "a b/c d.txt", ""].map(String::from),
    );
    for query in ["", " ", "🦀", "\u{301}", "^$!'", "\\", "a b", "é", &"x".repeat(10_000)] {
        let _ = find(&files, query, MAX_SHOWN);
    }
    assert_eq!(found(&files, "crab"), ["🦀/crab.rs"]);
}
