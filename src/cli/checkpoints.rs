//! `anyon checkpoints list|create|diff|restore|gc`: project snapshots from the command line.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{finish, write_json};
use crate::backend::Backend;
use crate::command::Command;
use crate::event::Output;

/// The project and session a checkpoint command works on.
#[derive(Debug, Args)]
pub struct Scope {
    /// The project folder.
    #[arg(long)]
    pub project: PathBuf,
    /// The session (default: "manual", for checkpoints taken outside a chat).
    #[arg(long)]
    pub session: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum CheckpointsVerb {
    /// List checkpoints, oldest first.
    List(Scope),
    /// Take a checkpoint now.
    Create {
        #[command(flatten)]
        scope: Scope,
        /// What it marks.
        #[arg(long)]
        description: Option<String>,
    },
    /// Show what changed from a checkpoint to another one, or to the files now.
    Diff {
        #[command(flatten)]
        scope: Scope,
        from: String,
        to: Option<String>,
    },
    /// Restore the project's files to a checkpoint (a checkpoint of the current state is taken first).
    Restore {
        #[command(flatten)]
        scope: Scope,
        id: String,
        /// Only show what would be written and deleted.
        #[arg(long)]
        preview: bool,
    },
    /// Delete stored file contents no checkpoint refers to.
    Gc {
        #[arg(long)]
        json: bool,
    },
}

fn project(scope: &Scope) -> PathBuf {
    std::fs::canonicalize(&scope.project).unwrap_or_else(|_| scope.project.clone())
}

pub fn run(backend: &Backend, verb: CheckpointsVerb) -> i32 {
    let (command, json) = match verb {
        CheckpointsVerb::List(scope) => (
            Command::CheckpointList {
                project_path: project(&scope),
                session_id: scope.session.clone(),
            },
            scope.json,
        ),
        CheckpointsVerb::Create { scope, description } => (
            Command::CheckpointCreate {
                project_path: project(&scope),
                session_id: scope.session.clone().unwrap_or_else(|| "manual".into()),
                trigger: "manual".into(),
                description,
            },
            scope.json,
        ),
        CheckpointsVerb::Diff { scope, from, to } => (
            Command::CheckpointDiff {
                project_path: project(&scope),
                from,
                to,
            },
            scope.json,
        ),
        CheckpointsVerb::Restore { scope, id, preview } => {
            let project_path = project(&scope);
            let command = if preview {
                Command::CheckpointRestorePlan { project_path, id }
            } else {
                Command::CheckpointRestore { project_path, id }
            };
            (command, scope.json)
        }
        CheckpointsVerb::Gc { json } => (Command::CheckpointGc, json),
    };
    finish(backend, command, json, |out, output| match output {
        Output::CheckpointDiff(diffs) if !json => {
            for diff in diffs {
                if diff.binary {
                    writeln!(out, "Binary file {} {}", diff.path, diff.change)?;
                } else {
                    write!(out, "{}", diff.unified)?;
                }
            }
            Ok(())
        }
        Output::Checkpoints(list) if !json => {
            for c in list {
                writeln!(
                    out,
                    "{}  {}  {:<14} {:>4} files  +{} -{}  {}",
                    &c.id[..12.min(c.id.len())],
                    c.created_at,
                    c.trigger,
                    c.files_changed,
                    c.lines_added,
                    c.lines_removed,
                    c.description.unwrap_or_default()
                )?;
            }
            Ok(())
        }
        other => write_json(out, &other),
    })
}
