//! A project's files for @-mentions: listed and matched on the blocking pool, never on the window's thread.

use std::sync::Arc;

use super::{Backend, BackendError};
use crate::domain::project_files::requests::{ListProjectFiles, MatchProjectFiles, Reply, Request};
use crate::domain::project_files::{self, MAX_SHOWN};
use crate::util::request::Ask;

impl Backend {
    pub(super) async fn project_files(&self, request: Request) -> Result<Reply, BackendError> {
        let reply = tokio::task::spawn_blocking(move || match request {
            Request::ListProjectFiles(q) => {
                let files = project_files::list(&q.root)?;
                Ok::<_, BackendError>(ListProjectFiles::wrap(Arc::new(files)))
            }
            Request::MatchProjectFiles(q) => {
                let limit = q.limit.min(MAX_SHOWN);
                Ok(MatchProjectFiles::wrap(project_files::find(&q.files, &q.query, limit)))
            }
        })
        .await??;
        Ok(reply)
    }
}
