//! The checkpoint commands, on the blob store in the data folder.

use super::{Backend, BackendError};
use crate::checkpoint::{self, Blobs, CheckpointError, CreateRequest, diff, restore};
use crate::command::Command;
use crate::event::{Event, Output};

impl Backend {
    /// The content store of every checkpoint.
    pub fn blobs(&self) -> Blobs {
        Blobs::new(self.paths().root().join("blobs"))
    }

    pub(super) async fn checkpoints(&self, command: Command) -> Result<Output, BackendError> {
        let blobs = self.blobs();
        match command {
            Command::CheckpointCreate {
                project_path,
                session_id,
                trigger,
                description,
            } => {
                let created = self
                    .blocking(move |db| {
                        let request = CreateRequest {
                            project: project_path,
                            session_id,
                            trigger,
                            description,
                            message_index: 0,
                        };
                        let conn = db.writer();
                        let created = checkpoint::create(&conn, &blobs, &request)?;
                        let retention = retention(&conn);
                        let project = created.checkpoint.project_path.clone();
                        // Contents only pruned checkpoints held go right away.
                        if checkpoint::prune(&conn, &created.checkpoint.session_id, &project, retention)? > 0 {
                            checkpoint::gc(&conn, &blobs)?;
                        }
                        Ok(created)
                    })
                    .await?;
                self.sink()
                    .send(Event::CheckpointCreated {
                        checkpoint_id: created.checkpoint.id.clone(),
                        session_id: created.checkpoint.session_id.clone(),
                        project_path: created.checkpoint.project_path.clone(),
                    })
                    .await;
                Ok(Output::CheckpointTaken(created))
            }
            Command::CheckpointList {
                project_path,
                session_id,
            } => {
                self.blocking(move |db| {
                    let project = project_path.display().to_string();
                    Ok(Output::Checkpoints(checkpoint::list(
                        &db.writer(),
                        &project,
                        session_id.as_deref(),
                    )?))
                })
                .await
            }
            Command::CheckpointDiff { project_path, from, to } => {
                self.blocking(move |db| {
                    let conn = db.writer();
                    let diffs = match to {
                        Some(to) => diff::between(&conn, &blobs, &from, &to)?,
                        None => diff::against_working_tree(&conn, &blobs, &from, &project_path)?,
                    };
                    Ok(Output::CheckpointDiff(diffs))
                })
                .await
            }
            Command::CheckpointRestorePlan { project_path, id } => {
                self.blocking(move |db| {
                    Ok(Output::RestorePlan(restore::plan(
                        &db.writer(),
                        &blobs,
                        &id,
                        &project_path,
                    )?))
                })
                .await
            }
            Command::CheckpointRestore { project_path, id } => {
                self.blocking(move |db| {
                    Ok(Output::Restored(restore::restore(
                        &db.writer(),
                        &blobs,
                        &id,
                        &project_path,
                    )?))
                })
                .await
            }
            Command::CheckpointGc => {
                self.blocking(move |db| {
                    Ok(Output::CheckpointGc {
                        removed: checkpoint::gc(&db.writer(), &blobs)?,
                    })
                })
                .await
            }
            other => Err(BackendError::NotAvailable { command: other.name() }),
        }
    }
}

/// `app_settings` keys of the checkpoint retention.
pub const KEEP_LAST_KEY: &str = "checkpoints.keep_last";
pub const KEEP_DAYS_KEY: &str = "checkpoints.keep_days";

/// The retention from the settings (defaults when unset or unreadable).
fn retention(conn: &rusqlite::Connection) -> checkpoint::Retention {
    let read = |key: &str| {
        crate::db::get_setting(conn, key)
            .ok()
            .flatten()
            .and_then(|v| v.trim().parse::<u32>().ok())
    };
    let defaults = checkpoint::Retention::default();
    checkpoint::Retention {
        keep_last: read(KEEP_LAST_KEY).unwrap_or(defaults.keep_last),
        keep_days: read(KEEP_DAYS_KEY).unwrap_or(defaults.keep_days),
    }
}

impl From<CheckpointError> for BackendError {
    fn from(error: CheckpointError) -> Self {
        BackendError::Checkpoint(error.to_string())
    }
}
