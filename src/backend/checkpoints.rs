//! The checkpoint commands, on the blob store in the data folder.

use super::{Backend, BackendError};
use crate::backend::event::Event;
use crate::domain::checkpoint::requests::{
    CheckpointCreate, CheckpointDiff, CheckpointGc, CheckpointInterrupted, CheckpointList, CheckpointRecover,
    CheckpointRestore, CheckpointRestorePlan, Collected, Reply, Request,
};
use crate::domain::checkpoint::{self, Blobs, CreateRequest, diff, journal, restore};
use crate::util::request::Ask;

/// The session's own transcript, `<projects>/<project folder>/<session id>.jsonl`.
fn find_transcript(root: &std::path::Path, session_id: &str) -> Option<std::path::PathBuf> {
    if session_id.is_empty() || session_id.contains(['/', '\\']) || session_id.starts_with('.') {
        return None;
    }
    let name = format!("{session_id}.jsonl");
    std::fs::read_dir(root)
        .ok()?
        .flatten()
        .map(|entry| entry.path().join(&name))
        .find(|path| path.is_file())
}

/// The user and assistant messages of a transcript (unreadable lines skipped).
fn count_messages(path: &std::path::Path) -> i64 {
    use std::io::BufRead;
    let Ok(file) = std::fs::File::open(path) else {
        return 0;
    };
    let mut count = 0;
    for line in std::io::BufReader::new(file).split(b'\n').map_while(Result::ok) {
        if let crate::domain::transcripts::line::Line::Facts { meta, .. } =
            crate::domain::transcripts::line::parse(&String::from_utf8_lossy(&line))
            && meta.is_message
        {
            count += 1;
        }
    }
    count
}

impl Backend {
    /// The content store of every checkpoint.
    pub fn blobs(&self) -> Blobs {
        Blobs::new(self.paths().root().join("blobs"))
    }

    pub(super) async fn checkpoints(&self, request: Request) -> Result<Reply, BackendError> {
        let blobs = self.blobs();
        match request {
            Request::CheckpointCreate(CheckpointCreate {
                project_path,
                session_id,
                trigger,
                description,
            }) => {
                let transcript = self
                    .projects_root()
                    .and_then(|root| find_transcript(&root, &session_id));
                let created = self
                    .blocking(move |db| {
                        // Where along the conversation this checkpoint sits: the messages so far.
                        let message_index = transcript.as_deref().map_or(0, count_messages);
                        let request = CreateRequest {
                            project: project_path,
                            session_id,
                            trigger,
                            description,
                            message_index,
                        };
                        let conn = db.writer();
                        // A project left half restored is finished or rolled back first.
                        journal::refuse_while_unfinished(&conn, &blobs, &request.project)?;
                        let created = checkpoint::create(&conn, &limited(&blobs, &conn), &request)?;
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
                Ok(CheckpointCreate::wrap(created))
            }
            Request::CheckpointList(CheckpointList {
                project_path,
                session_id,
            }) => {
                self.blocking(move |db| {
                    let project = project_path.display().to_string();
                    Ok(CheckpointList::wrap(checkpoint::list(
                        &db.writer(),
                        &project,
                        session_id.as_deref(),
                    )?))
                })
                .await
            }
            Request::CheckpointDiff(CheckpointDiff { project_path, from, to }) => {
                self.blocking(move |db| {
                    let conn = db.writer();
                    journal::refuse_while_unfinished(&conn, &blobs, &project_path)?;
                    let diffs = match to {
                        Some(to) => diff::between(&conn, &blobs, &from, &to)?,
                        None => diff::against_working_tree(&conn, &blobs, &from, &project_path)?,
                    };
                    Ok(CheckpointDiff::wrap(diffs))
                })
                .await
            }
            Request::CheckpointRestorePlan(CheckpointRestorePlan { project_path, id }) => {
                self.blocking(move |db| {
                    let conn = db.writer();
                    journal::refuse_while_unfinished(&conn, &blobs, &project_path)?;
                    let blobs = limited(&blobs, &conn);
                    Ok(CheckpointRestorePlan::wrap(restore::plan(
                        &conn,
                        &blobs,
                        &id,
                        &project_path,
                    )?))
                })
                .await
            }
            Request::CheckpointRestore(CheckpointRestore { project_path, id }) => {
                self.blocking(move |db| {
                    let conn = db.writer();
                    let blobs = limited(&blobs, &conn);
                    Ok(CheckpointRestore::wrap(restore::restore(
                        &conn,
                        &blobs,
                        &id,
                        &project_path,
                    )?))
                })
                .await
            }
            Request::CheckpointInterrupted(CheckpointInterrupted { project_path }) => {
                self.blocking(move |db| {
                    Ok(CheckpointInterrupted::wrap(journal::interrupted(
                        &db.writer(),
                        &blobs,
                        &project_path,
                    )?))
                })
                .await
            }
            Request::CheckpointRecover(CheckpointRecover { project_path, action }) => {
                self.blocking(move |db| {
                    let conn = db.writer();
                    let blobs = limited(&blobs, &conn);
                    Ok(CheckpointRecover::wrap(restore::recover(
                        &conn,
                        &blobs,
                        &project_path,
                        action,
                    )?))
                })
                .await
            }
            Request::CheckpointGc(CheckpointGc) => {
                self.blocking(move |db| {
                    Ok(CheckpointGc::wrap(Collected {
                        removed: checkpoint::gc(&db.writer(), &blobs)?,
                    }))
                })
                .await
            }
        }
    }
}

/// The store with the size limit from the settings (the default when unset or unreadable).
fn limited(blobs: &Blobs, conn: &rusqlite::Connection) -> Blobs {
    let limit = crate::domain::settings::load(conn)
        .map(|settings| settings.checkpoint_max_file_bytes())
        .unwrap_or_else(|error| {
            tracing::warn!(%error, "cannot read the checkpoint size limit; using the default");
            checkpoint::DEFAULT_MAX_FILE_BYTES
        });
    blobs.clone().with_max_file_bytes(limit)
}

/// The retention from the settings (defaults when unset or unreadable).
fn retention(conn: &rusqlite::Connection) -> checkpoint::Retention {
    crate::domain::settings::load(conn)
        .map(|settings| settings.retention())
        .unwrap_or_else(|error| {
            tracing::warn!(%error, "cannot read the checkpoint retention; using the defaults");
            checkpoint::Retention::default()
        })
}
