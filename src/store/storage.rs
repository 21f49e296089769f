//! What the Storage screen shows: the app's tables and the last query's result.

use crate::command::RequestId;
use crate::db::storage::{QueryResult, TableInfo};
use crate::event::Output;

use super::Requested;

#[derive(Debug, Default)]
pub struct StorageStore {
    pub tables: Requested<Vec<TableInfo>>,
    pub query: Requested<QueryResult>,
}

impl StorageStore {
    /// Applies a completion if a storage request waits for it.
    pub fn apply_output(&mut self, request_id: RequestId, output: Output) -> bool {
        match output {
            Output::Tables(tables) if self.tables.awaits(request_id) => self.tables.finish(request_id, tables),
            Output::Query(result) if self.query.awaits(request_id) => self.query.finish(request_id, result),
            _ => false,
        }
    }

    /// Applies a failure if a storage request waits for it.
    pub fn apply_failure(&mut self, request_id: RequestId, error: &str) -> bool {
        self.tables.fail(request_id, error.to_owned()) || self.query.fail(request_id, error.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_go_to_the_request_that_waits() {
        let mut store = StorageStore::default();
        store.tables.start(4);
        let tables = vec![TableInfo {
            name: "agents".into(),
            kind: "table".into(),
            row_count: 0,
        }];
        assert!(!store.apply_output(5, Output::Tables(tables.clone())));
        assert!(store.apply_output(4, Output::Tables(tables.clone())));
        assert_eq!(store.tables.value(), Some(&tables));
        store.query.start(6);
        assert!(store.apply_failure(6, "syntax error"));
        assert_eq!(store.query.error(), Some("syntax error"));
        assert!(!store.apply_failure(99, "nobody asked"));
    }
}
