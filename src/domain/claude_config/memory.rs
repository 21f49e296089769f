//! Memory files: `CLAUDE.md` of Claude's config folder (user) and every `CLAUDE.md` / `CLAUDE.local.md` of a
//! project, found recursively with `.gitignore` honoured. Saves refuse a file changed since it was read.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{ConfigError, Version, check_version, read_text, write_file};

const NAMES: [&str; 2] = ["CLAUDE.md", "CLAUDE.local.md"];

/// One memory file, perhaps not created yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemoryFile {
    pub path: PathBuf,
    /// `user` or `project`.
    pub scope: &'static str,
    /// The path shown: `~/.claude/CLAUDE.md`-like for the user's, relative to the project otherwise.
    pub label: String,
    pub exists: bool,
}

/// A memory file's text as read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemoryDoc {
    pub path: PathBuf,
    pub text: String,
    pub version: Version,
}

/// The user's memory file, the project's top `CLAUDE.md` (even when absent, so it can be created), and
/// every other memory file of the project.
pub fn list(config_dir: &Path, project: Option<&Path>) -> Vec<MemoryFile> {
    let user = config_dir.join("CLAUDE.md");
    let mut files = vec![MemoryFile {
        exists: user.is_file(),
        label: "CLAUDE.md (user)".into(),
        path: user,
        scope: "user",
    }];
    let Some(project) = project else {
        return files;
    };
    let top = project.join("CLAUDE.md");
    let mut found: Vec<PathBuf> = ignore::WalkBuilder::new(project)
        .hidden(false)
        .git_ignore(true)
        .git_global(false)
        .git_exclude(true)
        .require_git(false)
        .parents(false)
        .filter_entry(|entry| entry.file_name() != ".git" && entry.file_name() != "node_modules")
        .build()
        .flatten()
        .filter(|entry| entry.file_type().is_some_and(|t| t.is_file()))
        .filter(|entry| NAMES.iter().any(|n| entry.file_name() == *n))
        .map(|entry| entry.into_path())
        .filter(|path| *path != top)
        .collect();
    found.sort();
    for path in std::iter::once(top).chain(found) {
        files.push(MemoryFile {
            exists: path.is_file(),
            label: path.strip_prefix(project).unwrap_or(&path).display().to_string(),
            path,
            scope: "project",
        });
    }
    files
}

/// Only memory files may be written through these commands.
fn check_name(path: &Path) -> Result<(), ConfigError> {
    match path.file_name().and_then(|n| n.to_str()) {
        Some(name) if NAMES.contains(&name) => Ok(()),
        _ => Err(ConfigError::Invalid(format!(
            "{} is not a memory file (CLAUDE.md or CLAUDE.local.md)",
            path.display()
        ))),
    }
}

/// Reads a memory file; a missing one is empty.
pub fn read(path: &Path) -> Result<MemoryDoc, ConfigError> {
    check_name(path)?;
    let (text, version) = read_text(path)?;
    Ok(MemoryDoc {
        path: path.into(),
        text: text.unwrap_or_default(),
        version,
    })
}

/// Writes `text`, refused when the file is no longer the `expected` version.
pub fn save(path: &Path, text: &str, expected: Option<&Version>) -> Result<MemoryDoc, ConfigError> {
    check_name(path)?;
    let (current_text, current) = read_text(path)?;
    check_version(path, &current, current_text.as_deref(), expected)?;
    write_file(path, text.as_bytes())?;
    Ok(MemoryDoc {
        path: path.into(),
        text: text.to_owned(),
        version: Version::of(Some(text.as_bytes())),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn memory_files_are_found_recursively_honouring_gitignore() {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("p");
        for folder in ["src/ui", "target/x", ".claude"] {
            std::fs::create_dir_all(project.join(folder)).unwrap();
        }
        std::fs::write(project.join(".gitignore"), "target/\n").unwrap();
        for file in [
            "src/ui/CLAUDE.md",
            "target/x/CLAUDE.md",
            "CLAUDE.local.md",
            ".claude/CLAUDE.md",
            "README.md",
        ] {
            std::fs::write(project.join(file), "x").unwrap();
        }
        let files = list(&dir.path().join("config"), Some(&project));
        let labels: Vec<(&str, bool)> = files.iter().map(|f| (f.label.as_str(), f.exists)).collect();
        assert_eq!(
            labels,
            [
                ("CLAUDE.md (user)", false),
                ("CLAUDE.md", false),
                (".claude/CLAUDE.md", true),
                ("CLAUDE.local.md", true),
                ("src/ui/CLAUDE.md", true)
            ]
        );
    }

    #[test]
    fn saves_check_the_version_and_the_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("CLAUDE.md");
        let empty = read(&path).unwrap();
        assert_eq!(empty.text, "");
        let saved = save(&path, "# Rules\n", Some(&empty.version)).unwrap();
        std::fs::write(&path, "# Theirs\n").unwrap();
        match save(&path, "# Mine\n", Some(&saved.version)) {
            Err(ConfigError::Changed { text, .. }) => assert_eq!(text.as_deref(), Some("# Theirs\n")),
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "# Theirs\n");
        assert!(matches!(
            save(&dir.path().join("notes.md"), "x", None),
            Err(ConfigError::Invalid(_))
        ));
    }
}
