//! What the chat tab's checkpoint timeline shows: each session's checkpoints, a diff being looked
//! at, and a restore waiting for confirmation.

use std::collections::{HashMap, HashSet};

use crate::backend::command::RequestId;
use crate::domain::checkpoint::Checkpoint;
use crate::domain::checkpoint::diff::FileDiff;
use crate::domain::checkpoint::requests::Reply;
use crate::domain::checkpoint::restore::RestorePlan;

use super::Requested;

/// A restore the person is looking at before confirming.
#[derive(Debug, Default)]
pub struct PendingRestore {
    pub checkpoint_id: String,
    /// The session the checkpoint belongs to (what "fork" branches off).
    pub session_id: String,
    pub project: String,
    pub plan: Requested<RestorePlan>,
}

#[derive(Debug, Default)]
pub struct CheckpointsStore {
    /// Checkpoints by session id.
    pub lists: HashMap<String, Requested<Vec<Checkpoint>>>,
    /// Sessions whose list changed since it was read.
    pub stale: HashSet<String>,
    /// The diff shown (title, diffs).
    pub diff: Option<(String, Requested<Vec<FileDiff>>)>,
    /// Diffs shown in two columns (old | new) rather than inline.
    pub side_by_side: bool,
    pub restore: Option<PendingRestore>,
    /// A fork to open in a new chat tab: (project, session to branch off).
    pub fork: Option<(String, String)>,
}

impl CheckpointsStore {
    pub fn apply_output(&mut self, request_id: RequestId, output: &Reply) -> bool {
        match output {
            Reply::Checkpoints(list) => self.lists.values_mut().any(|r| r.finish(request_id, list.clone())),
            Reply::CheckpointDiff(diffs) => self
                .diff
                .as_mut()
                .is_some_and(|(_, d)| d.finish(request_id, diffs.clone())),
            Reply::RestorePlan(plan) => self
                .restore
                .as_mut()
                .is_some_and(|r| r.plan.finish(request_id, plan.clone())),
            Reply::Restored(restored) => {
                self.stale.insert(restored.before.session_id.clone());
                true
            }
            Reply::CheckpointTaken(_) => true,
            Reply::CheckpointGc(_) => false,
        }
    }

    pub fn apply_failure(&mut self, request_id: RequestId, error: &str) -> bool {
        self.lists.values_mut().any(|r| r.fail(request_id, error.to_owned()))
            || self
                .diff
                .as_mut()
                .is_some_and(|(_, d)| d.fail(request_id, error.to_owned()))
            || self
                .restore
                .as_mut()
                .is_some_and(|r| r.plan.fail(request_id, error.to_owned()))
    }

    /// A checkpoint was written for `session_id`.
    pub fn created(&mut self, session_id: &str) {
        self.stale.insert(session_id.to_owned());
    }
}
