//! What can be asked of the checkpoint domain, and what each request answers.

use std::path::PathBuf;

use serde::Serialize;

use super::diff::FileDiff;
use super::journal::Interrupted;
use super::restore::{RecoverAction, Recovery, RestorePlan, Restored};
use super::{Checkpoint, Created, Trigger};

/// The checkpoint domain's answers (as JSON: `{"kind": "checkpoints", "data": [...]}`).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
pub enum Reply {
    CheckpointTaken(Created),
    Checkpoints(Vec<Checkpoint>),
    CheckpointDiff(Vec<FileDiff>),
    RestorePlan(RestorePlan),
    Restored(Restored),
    CheckpointGc(Collected),
    InterruptedRestore(Option<Interrupted>),
    Recovered(Recovery),
}

/// What a garbage collection removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Collected {
    /// Stored contents no checkpoint referred to any more.
    pub removed: usize,
}

crate::requests! {
    /// Takes a checkpoint of a project for a session.
    CheckpointCreate {
        pub project_path: PathBuf,
        pub session_id: String,
        pub trigger: Trigger,
        pub description: Option<String>,
    } = "checkpoint_create" => CheckpointTaken(Created);
    /// A project's checkpoints (of one session, or all).
    CheckpointList { pub project_path: PathBuf, pub session_id: Option<String> } = "checkpoint_list" => Checkpoints(Vec<Checkpoint>);
    /// Differences from checkpoint `from` to checkpoint `to`, or to the working tree when None.
    CheckpointDiff { pub project_path: PathBuf, pub from: String, pub to: Option<String> } = "checkpoint_diff" => CheckpointDiff(Vec<FileDiff>);
    /// What restoring would write and delete.
    CheckpointRestorePlan { pub project_path: PathBuf, pub id: String } = "checkpoint_restore_plan" => RestorePlan(RestorePlan);
    CheckpointRestore { pub project_path: PathBuf, pub id: String } = "checkpoint_restore" => Restored(Restored);
    /// The project's interrupted restore, if one is (a restore still running is an error).
    CheckpointInterrupted { pub project_path: PathBuf } = "checkpoint_interrupted" => InterruptedRestore(Option<Interrupted>);
    /// Reports, finishes or rolls back the project's interrupted restore.
    CheckpointRecover { pub project_path: PathBuf, pub action: RecoverAction } = "checkpoint_recover" => Recovered(Recovery);
    /// Deletes stored contents no checkpoint refers to.
    CheckpointGc = "checkpoint_gc" => CheckpointGc(Collected);
}
