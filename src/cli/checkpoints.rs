//! `anyon checkpoints list|create|diff|restore|recover|gc`: project snapshots from the command line.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{answer, answer_json, write_json};
use crate::backend::Backend;
use crate::domain::checkpoint::Trigger;
use crate::domain::checkpoint::requests::{
    CheckpointCreate, CheckpointDiff, CheckpointGc, CheckpointList, CheckpointRecover, CheckpointRestore,
    CheckpointRestorePlan,
};
use crate::domain::checkpoint::restore::{RecoverAction, RestorePlan};
use crate::domain::transcripts::requests::GetProjectSessions;
use crate::util::request::Ask;

/// The project and session a checkpoint command works on.
#[derive(Debug, Args)]
pub struct Scope {
    /// The project folder.
    #[arg(long)]
    pub project: PathBuf,
    /// The session (default: the project's most recent Claude session, else "manual").
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
    /// Show a restore that was interrupted (the process killed part way), or finish or roll it back.
    Recover {
        /// The project folder.
        #[arg(long)]
        project: PathBuf,
        /// Restore the checkpoint the interrupted restore was bringing back.
        #[arg(long, conflicts_with = "rollback")]
        finish: bool,
        /// Restore the "before restore" checkpoint: the files as they were before it.
        #[arg(long)]
        rollback: bool,
        #[arg(long)]
        json: bool,
    },
    /// Delete stored file contents no checkpoint refers to.
    Gc {
        #[arg(long)]
        json: bool,
    },
    /// For Claude's PreToolUse hook: reads the hook's JSON on stdin and takes a "before tool" checkpoint
    /// of its cwd for its session. Always exits 0 so a failed checkpoint never blocks the tool.
    #[command(hide = true)]
    Hook,
}

/// Claude runs this before a file-changing tool (see `claude::run` settings for chats with automatic
/// checkpoints on).
fn hook(backend: &Backend) -> i32 {
    let mut input = String::new();
    if std::io::Read::read_to_string(&mut std::io::stdin(), &mut input).is_err() {
        return 0;
    }
    let Ok(event) = serde_json::from_str::<serde_json::Value>(&input) else {
        tracing::warn!("checkpoint hook: stdin is not JSON");
        return 0;
    };
    let text = |key: &str| {
        event
            .get(key)
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let (cwd, session_id, tool) = (text("cwd"), text("session_id"), text("tool_name"));
    if cwd.is_empty() || session_id.is_empty() {
        return 0;
    }
    let command = CheckpointCreate {
        project_path: PathBuf::from(cwd),
        session_id,
        trigger: Trigger::BeforeTool,
        description: Some(format!("Before {tool}")),
    };
    if let Err(error) = backend.runtime().block_on(backend.call(command)) {
        tracing::warn!(%error, "checkpoint hook failed");
    }
    0
}

/// The project's most recent Claude session, from its transcripts (None when Claude never ran there).
fn latest_session(backend: &Backend, project: &std::path::Path) -> Option<String> {
    let command = GetProjectSessions {
        project_path: project.to_path_buf(),
        filter: String::new(),
        offset: 0,
        limit: Some(1),
        fresh: true,
    };
    let list = super::call(backend, command).ok()?;
    list.sessions.first().map(|s| s.session_id.clone())
}

fn project(scope: &Scope) -> PathBuf {
    std::fs::canonicalize(&scope.project).unwrap_or_else(|_| scope.project.clone())
}

/// A restore plan as lines: each file written, deleted or kept (with why), then the counts.
fn print_plan(out: &mut dyn std::io::Write, plan: &RestorePlan, done: bool) -> std::io::Result<()> {
    for path in &plan.write {
        writeln!(out, "write   {path}")?;
    }
    for path in &plan.delete {
        writeln!(out, "delete  {path}")?;
    }
    for kept in &plan.keep {
        writeln!(
            out,
            "kept    {}  (cannot be restored: {})",
            kept.path,
            kept.reason.label()
        )?;
    }
    writeln!(
        out,
        "{} {} written, {} deleted, {} kept as they are, {} unchanged",
        plan.write.len(),
        if done { "file(s)" } else { "file(s) to be" },
        plan.delete.len(),
        plan.keep.len(),
        plan.unchanged
    )
}

pub fn run(backend: &Backend, verb: CheckpointsVerb) -> i32 {
    match verb {
        CheckpointsVerb::Hook => hook(backend),
        CheckpointsVerb::List(scope) => {
            let request = CheckpointList {
                project_path: project(&scope),
                session_id: scope.session.clone(),
            };
            let json = scope.json;
            answer(backend, request, json, |out, list| {
                if json {
                    return write_json(out, &CheckpointList::wrap(list));
                }
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
            })
        }
        CheckpointsVerb::Create { scope, description } => {
            let request = CheckpointCreate {
                project_path: project(&scope),
                session_id: scope
                    .session
                    .clone()
                    .or_else(|| latest_session(backend, &project(&scope)))
                    .unwrap_or_else(|| "manual".into()),
                trigger: Trigger::Manual,
                description,
            };
            answer_json(backend, request, scope.json)
        }
        CheckpointsVerb::Diff { scope, from, to } => {
            let request = CheckpointDiff {
                project_path: project(&scope),
                from,
                to,
            };
            let json = scope.json;
            answer(backend, request, json, |out, diffs| {
                if json {
                    return write_json(out, &CheckpointDiff::wrap(diffs));
                }
                for diff in diffs {
                    if diff.binary {
                        writeln!(out, "Binary file {} {}", diff.path, diff.change)?;
                    } else {
                        write!(out, "{}", diff.unified)?;
                    }
                }
                Ok(())
            })
        }
        CheckpointsVerb::Restore { scope, id, preview } => {
            let project_path = project(&scope);
            let json = scope.json;
            if preview {
                answer(
                    backend,
                    CheckpointRestorePlan { project_path, id },
                    json,
                    |out, plan| {
                        if json {
                            return write_json(out, &CheckpointRestorePlan::wrap(plan));
                        }
                        print_plan(out, &plan, false)
                    },
                )
            } else {
                let shown = project_path.display().to_string();
                answer(
                    backend,
                    CheckpointRestore { project_path, id },
                    json,
                    |out, restored| {
                        if json {
                            return write_json(out, &CheckpointRestore::wrap(restored));
                        }
                        print_plan(out, &restored.plan, true)?;
                        writeln!(
                            out,
                            "To undo: anyon checkpoints restore --project {shown} {}",
                            restored.before.id
                        )
                    },
                )
            }
        }
        CheckpointsVerb::Recover {
            project,
            finish,
            rollback,
            json,
        } => {
            let project_path = std::fs::canonicalize(&project).unwrap_or(project);
            let action = match (finish, rollback) {
                (true, _) => RecoverAction::Finish,
                (_, true) => RecoverAction::Rollback,
                _ => RecoverAction::Report,
            };
            let shown = project_path.display().to_string();
            answer(
                backend,
                CheckpointRecover { project_path, action },
                json,
                |out, recovery| {
                    if json {
                        return write_json(out, &CheckpointRecover::wrap(recovery));
                    }
                    let interrupted = &recovery.interrupted;
                    match &recovery.plan {
                        Some(plan) => {
                            print_plan(out, plan, true)?;
                            match recovery.action {
                                RecoverAction::Rollback => writeln!(
                                    out,
                                    "Rolled back: the files are as they were before the restore (checkpoint {})",
                                    interrupted.before_id
                                ),
                                _ => writeln!(
                                    out,
                                    "Finished: the files are those of checkpoint {}",
                                    interrupted.target_id
                                ),
                            }
                        }
                        None => {
                            writeln!(
                                out,
                                "A restore of {} to checkpoint {} (started {}) was interrupted; the files before it \
                                 are in checkpoint {}.",
                                interrupted.project_path,
                                interrupted.target_id,
                                interrupted.started_at,
                                interrupted.before_id
                            )?;
                            writeln!(out, "Finish it:  anyon checkpoints recover --project {shown} --finish")?;
                            writeln!(
                                out,
                                "Undo it:    anyon checkpoints recover --project {shown} --rollback"
                            )
                        }
                    }
                },
            )
        }
        CheckpointsVerb::Gc { json } => answer_json(backend, CheckpointGc, json),
    }
}
