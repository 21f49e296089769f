//! What the chat tab's checkpoint timeline shows: each session's checkpoints, a diff being looked
//! at, a restore waiting for confirmation, and a restore that was interrupted (to finish or roll back).

use std::collections::{HashMap, HashSet};

use crate::backend::command::RequestId;
use crate::domain::checkpoint::Checkpoint;
use crate::domain::checkpoint::diff::FileDiff;
use crate::domain::checkpoint::journal::Interrupted;
use crate::domain::checkpoint::requests::Reply;
use crate::domain::checkpoint::restore::{Recovery, RestorePlan};

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
    /// Each shown project's interrupted restore (None inside: there is none), by project.
    pub interrupted: HashMap<String, Requested<Option<Interrupted>>>,
    /// Projects whose interrupted restore the person put off ("Later"): the banner stays, the dialog goes.
    pub recover_later: HashSet<String>,
    /// A recovery under way or its failure: (project, result).
    pub recovering: Option<(String, Requested<Recovery>)>,
}

impl CheckpointsStore {
    /// The first shown project with an interrupted restore the person has not put off.
    pub fn to_recover(&self) -> Option<(String, Interrupted)> {
        let mut found: Vec<(&String, &Interrupted)> = self
            .interrupted
            .iter()
            .filter(|(project, _)| !self.recover_later.contains(*project))
            .filter_map(|(project, check)| check.value()?.as_ref().map(|found| (project, found)))
            .collect();
        found.sort_by(|a, b| a.0.cmp(b.0));
        found
            .into_iter()
            .next()
            .map(|(project, found)| (project.clone(), found.clone()))
    }

    /// The interrupted restore of `project`, once known.
    pub fn interrupted_of(&self, project: &str) -> Option<&Interrupted> {
        self.interrupted.get(project)?.value()?.as_ref()
    }
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
            Reply::InterruptedRestore(found) => self
                .interrupted
                .values_mut()
                .any(|r| r.finish(request_id, found.clone())),
            Reply::Recovered(recovery) => {
                let ours = self
                    .recovering
                    .as_mut()
                    .is_some_and(|(_, r)| r.finish(request_id, recovery.clone()));
                if recovery.plan.is_some() {
                    self.recovering = None;
                    // Asked again: the banner goes, and the lists show the files' checkpoints anew.
                    self.interrupted.clear();
                    self.stale.extend(self.lists.keys().cloned());
                }
                ours
            }
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
            || self
                .interrupted
                .values_mut()
                .any(|r| r.fail(request_id, error.to_owned()))
            || self
                .recovering
                .as_mut()
                .is_some_and(|(_, r)| r.fail(request_id, error.to_owned()))
    }

    /// A checkpoint was written for `session_id`.
    pub fn created(&mut self, session_id: &str) {
        self.stale.insert(session_id.to_owned());
    }
}
