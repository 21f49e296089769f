//! A value the window asked the backend for: pending, ready, failed, keeping the last good
//! value while a refresh runs.

use crate::backend::command::RequestId;

/// The state of one request-response exchange with the backend.
#[derive(Debug, Clone)]
pub struct Requested<T> {
    value: Option<T>,
    pending: Option<RequestId>,
    error: Option<String>,
}

impl<T> Default for Requested<T> {
    fn default() -> Self {
        Self {
            value: None,
            pending: None,
            error: None,
        }
    }
}

impl<T> Requested<T> {
    /// Marks a new request as under way; the previous value stays visible.
    pub fn start(&mut self, request_id: RequestId) {
        self.pending = Some(request_id);
    }

    /// Stores the answer to `request_id`. An answer to an older request is dropped.
    pub fn finish(&mut self, request_id: RequestId, value: T) -> bool {
        if self.pending != Some(request_id) {
            return false;
        }
        self.pending = None;
        self.error = None;
        self.value = Some(value);
        true
    }

    /// Sets the value directly (a pushed update), keeping any request under way.
    pub fn replace(&mut self, value: T) {
        self.value = Some(value);
    }

    /// Records the failure of `request_id`, keeping the previous value.
    pub fn fail(&mut self, request_id: RequestId, error: String) -> bool {
        if self.pending != Some(request_id) {
            return false;
        }
        self.pending = None;
        self.error = Some(error);
        true
    }

    /// Whether `request_id` is the request this value waits for.
    pub fn awaits(&self, request_id: RequestId) -> bool {
        self.pending == Some(request_id)
    }

    /// The request this value waits for, if any.
    pub fn pending_request(&self) -> Option<RequestId> {
        self.pending
    }

    pub fn is_pending(&self) -> bool {
        self.pending.is_some()
    }

    /// The last value received, if any.
    pub fn value(&self) -> Option<&T> {
        self.value.as_ref()
    }

    /// The last error, cleared by the next success.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// True before the first request was made.
    pub fn never_requested(&self) -> bool {
        self.value.is_none() && self.pending.is_none() && self.error.is_none()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn stale_answers_are_dropped_and_values_survive_refresh_failures() {
        let mut requested = Requested::default();
        assert!(requested.never_requested());
        requested.start(1);
        requested.start(2);
        assert!(
            !requested.finish(1, "old"),
            "an answer to a superseded request is ignored"
        );
        assert!(requested.finish(2, "new"));
        requested.start(3);
        assert_eq!(requested.value(), Some(&"new"), "the value stays while refreshing");
        assert!(requested.fail(3, "boom".into()));
        assert_eq!((requested.value(), requested.error()), (Some(&"new"), Some("boom")));
        assert!(!requested.is_pending());
    }
}
