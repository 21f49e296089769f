//! `anyon config commands|memory`: slash command files and CLAUDE.md memory files from the command line.

use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};

use crate::backend::Backend;
use crate::cli::Place;
use crate::cli::{answer, print_error, write_json};
use crate::domain::claude_config::commands::{self, CommandScope};
use crate::domain::claude_config::requests::{
    Deleted, MemoryList, MemoryRead, MemorySave, SlashCommandDelete, SlashCommandSave, SlashCommandsList,
};
use crate::util::fs::{MAX_CONFIG_FILE, read_capped_text};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CommandScopeArg {
    User,
    Project,
}

impl From<CommandScopeArg> for CommandScope {
    fn from(value: CommandScopeArg) -> Self {
        match value {
            CommandScopeArg::User => CommandScope::User,
            CommandScopeArg::Project => CommandScope::Project,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum CommandsVerb {
    /// The commands of the user and of the project.
    List {
        #[command(flatten)]
        place: Place,
    },
    /// One command's file.
    Show {
        name: String,
        #[arg(long, value_enum)]
        scope: Option<CommandScopeArg>,
        #[command(flatten)]
        place: Place,
    },
    /// Creates a command (`ns:name` puts it in folder `ns`); the prompt is BODY or --file.
    Add {
        name: String,
        #[arg(required_unless_present = "file")]
        body: Option<String>,
        /// Read the whole file (frontmatter included) from here.
        #[arg(long, conflicts_with_all = ["body", "description", "allowed_tools"])]
        file: Option<PathBuf>,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        allowed_tools: Option<String>,
        #[arg(long, value_enum, default_value = "user")]
        scope: CommandScopeArg,
        #[arg(long)]
        overwrite: bool,
        #[command(flatten)]
        place: Place,
    },
    Remove {
        name: String,
        #[arg(long, value_enum)]
        scope: CommandScopeArg,
        #[command(flatten)]
        place: Place,
    },
}

#[derive(Debug, Subcommand)]
pub enum MemoryVerb {
    /// The user's CLAUDE.md and every CLAUDE.md / CLAUDE.local.md of the project.
    List {
        #[command(flatten)]
        place: Place,
    },
    /// One memory file's text.
    Show {
        path: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Writes a memory file from --file, else from stdin.
    Save {
        path: PathBuf,
        #[arg(long)]
        file: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
}

pub(super) fn run_memory(backend: &Backend, verb: MemoryVerb) -> i32 {
    match verb {
        MemoryVerb::List { place } => {
            let command = MemoryList {
                project: Some(place.project()),
            };
            answer(backend, command, place.json, |out, files| {
                if place.json {
                    return write_json(out, &files);
                }
                for file in files {
                    let state = if file.exists { "" } else { " (absent)" };
                    writeln!(out, "{:<8} {}{state}", file.scope, file.path.display())?;
                }
                Ok(())
            })
        }
        MemoryVerb::Show { path, json } => {
            let path = std::path::absolute(&path).unwrap_or(path);
            answer(backend, MemoryRead { path }, json, |out, doc| {
                if json {
                    write_json(out, &doc)
                } else {
                    write!(out, "{}", doc.text)
                }
            })
        }
        MemoryVerb::Save { path, file, json } => {
            let text = match &file {
                Some(file) => read_capped_text(file, MAX_CONFIG_FILE),
                None => std::io::read_to_string(std::io::Read::take(std::io::stdin(), MAX_CONFIG_FILE)),
            };
            let text = match text {
                Ok(text) => text,
                Err(source) => {
                    let path = file.unwrap_or_else(|| PathBuf::from("<stdin>"));
                    print_error(
                        &crate::domain::claude_config::ConfigError::Read { path, source }.into(),
                        json,
                    );
                    return 1;
                }
            };
            let path = std::path::absolute(&path).unwrap_or(path);
            let command = MemorySave {
                path,
                text,
                expected: None,
            };
            answer(backend, command, json, |out, doc| {
                if json {
                    write_json(out, &serde_json::json!({"path": doc.path, "version": doc.version}))
                } else {
                    writeln!(out, "saved {}", doc.path.display())
                }
            })
        }
    }
}

pub(super) fn run_commands(backend: &Backend, verb: CommandsVerb) -> i32 {
    match verb {
        CommandsVerb::List { place } => {
            let command = SlashCommandsList {
                project: Some(place.project()),
            };
            answer(backend, command, place.json, |out, list| {
                if place.json {
                    return write_json(out, &list);
                }
                for c in list {
                    writeln!(
                        out,
                        "/{:<24} {:<8} {}",
                        c.name,
                        c.scope.as_str(),
                        c.description.unwrap_or_default()
                    )?;
                }
                Ok(())
            })
        }
        CommandsVerb::Show { name, scope, place } => {
            let command = SlashCommandsList {
                project: Some(place.project()),
            };
            let scope: Option<CommandScope> = scope.map(Into::into);
            let mut found = true;
            let status = answer(backend, command, place.json, |out, list| {
                let wanted = name.trim_start_matches('/');
                // A project command of the same name comes after the user's, and wins.
                let Some(c) = list
                    .into_iter()
                    .rfind(|c| c.name == wanted && scope.is_none_or(|s| s == c.scope))
                else {
                    found = false;
                    return Ok(());
                };
                if place.json {
                    write_json(out, &c)
                } else {
                    write!(out, "{}", c.text)
                }
            });
            if !found {
                print_error(
                    &crate::domain::claude_config::ConfigError::NotFound(format!("command {name:?}")).into(),
                    place.json,
                );
                return 1;
            }
            status
        }
        CommandsVerb::Add {
            name,
            body,
            file,
            description,
            allowed_tools,
            scope,
            overwrite,
            place,
        } => {
            let text = match file {
                Some(path) => match read_capped_text(&path, MAX_CONFIG_FILE) {
                    Ok(text) => text,
                    Err(source) => {
                        let error = crate::domain::claude_config::ConfigError::Read { path, source };
                        print_error(&error.into(), place.json);
                        return 1;
                    }
                },
                None => commands::compose(
                    description.as_deref(),
                    allowed_tools.as_deref(),
                    body.as_deref().unwrap_or_default(),
                ),
            };
            let command = SlashCommandSave {
                scope: scope.into(),
                project: Some(place.project()),
                name,
                text,
                expected: None,
                overwrite,
            };
            answer(backend, command, place.json, |out, c| {
                if place.json {
                    write_json(out, &c)
                } else {
                    writeln!(out, "saved /{} in {}", c.name, c.path.display())
                }
            })
        }
        CommandsVerb::Remove { name, scope, place } => {
            let command = SlashCommandDelete {
                scope: scope.into(),
                project: Some(place.project()),
                name: name.trim_start_matches('/').to_owned(),
            };
            answer(backend, command, place.json, |out, Deleted { path }| {
                if place.json {
                    write_json(out, &serde_json::json!({ "removed": path }))
                } else {
                    writeln!(out, "removed {}", path.display())
                }
            })
        }
    }
}
