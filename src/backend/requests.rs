//! The narrow handle screens get: it sends requests, and nothing else. The data folder, the runtime, the
//! database and the processes stay behind it; what a screen needs to show arrives as state in the stores.

use super::Backend;
use super::command::{Command, RequestId};

/// Sends requests to the backend. Cheap to clone.
#[derive(Clone)]
pub struct Requests {
    backend: Backend,
}

impl Requests {
    pub(super) fn new(backend: Backend) -> Self {
        Self { backend }
    }

    /// Sends `request`; its reply arrives as an event with the returned id.
    pub fn dispatch(&self, request: impl Into<Command>) -> RequestId {
        self.backend.dispatch(request)
    }
}
