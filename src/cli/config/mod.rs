//! `anyon config get|set|hooks|commands|memory`: Claude Code's own settings (user, project, local), slash
//! commands and memory files from the command line, edited in Claude's files like the window edits them.

use std::io::Write;

use clap::{Subcommand, ValueEnum};
use serde_json::Value;

mod files;

pub use files::{CommandsVerb, MemoryVerb};

use super::{Place, answer, write_json};
use crate::backend::Backend;
use crate::domain::claude_config::requests::{ClaudeConfigEdit, ClaudeConfigRead};
use crate::domain::claude_config::{ConfigSnapshot, EnvEntry, SettingsEdit, SettingsScope};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ScopeArg {
    User,
    Project,
    Local,
}

impl From<ScopeArg> for SettingsScope {
    fn from(value: ScopeArg) -> Self {
        match value {
            ScopeArg::User => SettingsScope::User,
            ScopeArg::Project => SettingsScope::Project,
            ScopeArg::Local => SettingsScope::Local,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum ConfigVerb {
    /// Every settings file and their effective merge; with KEY (dotted, e.g. `permissions.allow`), that
    /// key of one scope's file, or of the merge without --scope.
    Get {
        key: Option<String>,
        #[arg(long, value_enum)]
        scope: Option<ScopeArg>,
        #[command(flatten)]
        place: Place,
    },
    /// Sets KEY (dotted) in one scope's settings file to VALUE (JSON, else a string); --unset removes it.
    Set {
        key: String,
        #[arg(required_unless_present = "unset")]
        value: Option<String>,
        #[arg(long, value_enum, default_value = "user")]
        scope: ScopeArg,
        #[arg(long, conflicts_with = "value")]
        unset: bool,
        #[command(flatten)]
        place: Place,
    },
    /// Hooks of every scope: list, add, remove.
    #[command(alias = "edit-hooks")]
    Hooks {
        #[command(subcommand)]
        verb: HooksVerb,
    },
    /// Slash commands of the user and the project: list, show, add, remove.
    Commands {
        #[command(subcommand)]
        verb: CommandsVerb,
    },
    /// Memory files (CLAUDE.md) of the user and the project: list, show, save.
    Memory {
        #[command(subcommand)]
        verb: MemoryVerb,
    },
}

#[derive(Debug, Subcommand)]
pub enum HooksVerb {
    /// Every hook of every scope, with the scope and group/hook indexes `remove` takes.
    List {
        #[command(flatten)]
        place: Place,
    },
    /// Adds a command hook (into the group of the same matcher).
    Add {
        /// PreToolUse, PostToolUse, UserPromptSubmit, Notification, Stop, SubagentStop, PreCompact,
        /// SessionStart, SessionEnd.
        #[arg(long)]
        event: String,
        /// A tool name or pattern (`Bash`, `Edit|Write`); none matches everything.
        #[arg(long)]
        matcher: Option<String>,
        #[arg(long)]
        command: String,
        #[arg(long)]
        timeout: Option<u64>,
        #[arg(long, value_enum, default_value = "user")]
        scope: ScopeArg,
        #[command(flatten)]
        place: Place,
    },
    /// Changes the command (and timeout) of hook HOOK of group GROUP of EVENT.
    Edit {
        #[arg(long)]
        event: String,
        #[arg(long)]
        group: usize,
        #[arg(long)]
        hook: usize,
        #[arg(long)]
        command: String,
        #[arg(long)]
        timeout: Option<u64>,
        #[arg(long, value_enum)]
        scope: ScopeArg,
        #[command(flatten)]
        place: Place,
    },
    /// Removes hook HOOK of group GROUP of EVENT (indexes as `list` shows them).
    Remove {
        #[arg(long)]
        event: String,
        #[arg(long)]
        group: usize,
        #[arg(long)]
        hook: usize,
        #[arg(long, value_enum)]
        scope: ScopeArg,
        #[command(flatten)]
        place: Place,
    },
}

pub fn run(backend: &Backend, verb: ConfigVerb) -> i32 {
    match verb {
        ConfigVerb::Get { key, scope, place } => {
            let command = ClaudeConfigRead {
                project: Some(place.project()),
            };
            answer(backend, command, place.json, |out, snapshot| {
                let Some(key) = key else {
                    return if place.json {
                        write_json(out, &snapshot)
                    } else {
                        print_snapshot(out, &snapshot)
                    };
                };
                let value = lookup(&snapshot, &key, scope.map(Into::into));
                if place.json {
                    write_json(out, &value)
                } else {
                    match value {
                        Value::String(text) => writeln!(out, "{text}"),
                        other => writeln!(out, "{}", serde_json::to_string_pretty(&other).unwrap_or_default()),
                    }
                }
            })
        }
        ConfigVerb::Set {
            key,
            value,
            scope,
            unset,
            place,
        } => {
            let value = if unset {
                None
            } else {
                value.map(|v| serde_json::from_str(&v).unwrap_or(Value::String(v)))
            };
            edit(backend, scope.into(), SettingsEdit::Set { key, value }, &place)
        }
        ConfigVerb::Hooks { verb } => match verb {
            HooksVerb::List { place } => {
                let command = ClaudeConfigRead {
                    project: Some(place.project()),
                };
                answer(backend, command, place.json, |out, snapshot| {
                    let rows: Vec<Value> = snapshot
                        .files
                        .iter()
                        .flat_map(|file| {
                            file.hooks.iter().flat_map(move |(event, groups)| {
                                groups.iter().enumerate().flat_map(move |(g, group)| {
                                    group.hooks.iter().enumerate().map(move |(h, hook)| {
                                        serde_json::json!({
                                            "scope": file.scope, "event": event, "group": g, "hook": h,
                                            "matcher": group.matcher, "command": hook.command,
                                            "timeout": hook.timeout_secs,
                                        })
                                    })
                                })
                            })
                        })
                        .collect();
                    if place.json {
                        return write_json(out, &rows);
                    }
                    for row in rows {
                        writeln!(
                            out,
                            "{:<8} {:<17} {}/{} {:<12} {}",
                            row["scope"].as_str().unwrap_or(""),
                            row["event"].as_str().unwrap_or(""),
                            row["group"],
                            row["hook"],
                            row["matcher"].as_str().unwrap_or(""),
                            row["command"].as_str().unwrap_or("")
                        )?;
                    }
                    Ok(())
                })
            }
            HooksVerb::Add {
                event,
                matcher,
                command,
                timeout,
                scope,
                place,
            } => {
                let edit_hook = SettingsEdit::AddHook {
                    event,
                    matcher,
                    command,
                    timeout_secs: timeout,
                };
                edit(backend, scope.into(), edit_hook, &place)
            }
            HooksVerb::Edit {
                event,
                group,
                hook,
                command,
                timeout,
                scope,
                place,
            } => {
                let replace = SettingsEdit::ReplaceHook {
                    event,
                    group,
                    hook,
                    command,
                    timeout_secs: timeout,
                };
                edit(backend, scope.into(), replace, &place)
            }
            HooksVerb::Remove {
                event,
                group,
                hook,
                scope,
                place,
            } => edit(
                backend,
                scope.into(),
                SettingsEdit::RemoveHook { event, group, hook },
                &place,
            ),
        },
        ConfigVerb::Commands { verb } => files::run_commands(backend, verb),
        ConfigVerb::Memory { verb } => files::run_memory(backend, verb),
    }
}

fn edit(backend: &Backend, scope: SettingsScope, edit: SettingsEdit, place: &Place) -> i32 {
    let command = ClaudeConfigEdit {
        scope,
        project: Some(place.project()),
        edit,
        expected: None,
    };
    answer(backend, command, place.json, |out, view| {
        if place.json {
            write_json(
                out,
                &serde_json::json!({"scope": view.scope, "path": view.path, "settings": view.raw}),
            )
        } else {
            writeln!(out, "saved {}", view.path.display())
        }
    })
}

/// KEY (dotted) in one scope's file, or in the effective merge; null when missing.
fn lookup(snapshot: &ConfigSnapshot, key: &str, scope: Option<SettingsScope>) -> Value {
    let root = match scope {
        Some(scope) => snapshot.file(scope).map(|f| f.raw.clone()).unwrap_or(Value::Null),
        None => serde_json::to_value(&snapshot.effective).unwrap_or(Value::Null),
    };
    key.split('.')
        .try_fold(&root, |value, part| value.get(part))
        .cloned()
        .unwrap_or(Value::Null)
}

fn print_snapshot(out: &mut dyn Write, snapshot: &ConfigSnapshot) -> std::io::Result<()> {
    for file in &snapshot.files {
        let state = match (&file.malformed, file.exists) {
            (Some(m), _) => format!("not valid JSON: {}", m.error),
            (None, false) => "absent".into(),
            (None, true) => "ok".into(),
        };
        writeln!(out, "{:<8} {} ({state})", file.scope.as_str(), file.path.display())?;
    }
    let p = &snapshot.effective.permissions;
    writeln!(out, "effective:")?;
    writeln!(out, "  allow: {}", p.allow.join(", "))?;
    writeln!(out, "  deny:  {}", p.deny.join(", "))?;
    writeln!(out, "  ask:   {}", p.ask.join(", "))?;
    writeln!(out, "  defaultMode: {}", p.default_mode.as_deref().unwrap_or("-"))?;
    for (key, EnvEntry { value, scope }) in &snapshot.effective.env {
        writeln!(out, "  env {key}={value} ({scope})")?;
    }
    Ok(())
}
