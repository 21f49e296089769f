//! The memory editor's state: the `CLAUDE.md` files, the one open with its unsaved text, a draft kept in
//! ANYON's settings so a crash loses nothing, and what changed on disk meanwhile.

use std::path::{Path, PathBuf};

use crate::backend::command::RequestId;
use crate::backend::event::ErrorDetail;
use crate::domain::claude_config::Version;
use crate::domain::claude_config::memory::{MemoryDoc, MemoryFile};
use crate::domain::claude_config::requests::Reply;

use super::Requested;

/// Puts both versions into the text with conflict markers, for the person to resolve.
pub fn merge_text(mine: &str, theirs: &str) -> String {
    let line = |text: &str| {
        if text.ends_with('\n') || text.is_empty() {
            ""
        } else {
            "\n"
        }
    };
    format!(
        "<<<<<<< mine\n{mine}{}=======\n{theirs}{}>>>>>>> on disk\n",
        line(mine),
        line(theirs)
    )
}

/// The open memory file.
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryEditor {
    pub path: PathBuf,
    /// The text on disk as last read or saved.
    pub base: String,
    pub version: Version,
    /// The text being edited.
    pub text: String,
    pub preview: bool,
    /// The file changed on disk while there were unsaved changes: its text now (None: deleted).
    pub theirs: Option<Option<String>>,
    /// A draft from an earlier session that differs from the file.
    pub draft: Option<String>,
    /// The draft last written to the settings (to write again only on change).
    pub draft_saved: String,
    /// When (egui time) it was written.
    pub draft_at: f64,
}

impl MemoryEditor {
    pub fn dirty(&self) -> bool {
        self.text != self.base
    }
}

#[derive(Debug, Default)]
pub struct MemoryState {
    pub files: Requested<Vec<MemoryFile>>,
    /// The project the list was asked for.
    pub listed_for: Option<Option<PathBuf>>,
    pub editor: Option<MemoryEditor>,
    pub loading: Option<RequestId>,
    /// A background check of the open file against the disk.
    pub checking: Option<RequestId>,
    pub saving: Option<RequestId>,
    /// Another file asked for while the open one has unsaved changes.
    pub switch_to: Option<PathBuf>,
    /// The window was asked to close with unsaved changes.
    pub close_prompt: bool,
    /// The person chose to close anyway.
    pub close_anyway: bool,
    pub error: Option<String>,
}

impl MemoryState {
    pub fn dirty(&self) -> bool {
        self.editor.as_ref().is_some_and(MemoryEditor::dirty)
    }

    /// Folds in an answer; `drafts` looks up a saved draft for a path.
    pub fn apply_output(
        &mut self,
        request_id: RequestId,
        output: &Reply,
        draft: impl Fn(&Path) -> Option<String>,
    ) -> bool {
        match output {
            Reply::MemoryFiles(list) => self.files.finish(request_id, list.clone()),
            Reply::MemoryDoc(doc) if self.loading == Some(request_id) => {
                self.loading = None;
                self.error = None;
                let saved = draft(&doc.path).filter(|d| !d.is_empty() && *d != doc.text);
                self.editor = Some(MemoryEditor {
                    path: doc.path.clone(),
                    base: doc.text.clone(),
                    version: doc.version.clone(),
                    text: doc.text.clone(),
                    preview: false,
                    theirs: None,
                    draft: saved.clone(),
                    draft_saved: saved.unwrap_or_default(),
                    draft_at: 0.0,
                });
                true
            }
            Reply::MemoryDoc(doc) if self.checking == Some(request_id) => {
                self.checking = None;
                self.on_disk(doc);
                true
            }
            Reply::MemorySaved(doc) if self.saving == Some(request_id) => {
                self.saving = None;
                self.error = None;
                if let Some(editor) = self.editor.as_mut().filter(|e| e.path == doc.path) {
                    editor.base = doc.text.clone();
                    editor.version = doc.version.clone();
                    editor.theirs = None;
                }
                true
            }
            _ => false,
        }
    }

    /// The open file as it is on disk now: taken over when nothing is unsaved, else offered.
    fn on_disk(&mut self, doc: &MemoryDoc) {
        let Some(editor) = self.editor.as_mut().filter(|e| e.path == doc.path) else {
            return;
        };
        if doc.version == editor.version {
            return;
        }
        if editor.dirty() {
            editor.theirs = Some(Some(doc.text.clone()));
        } else {
            editor.base = doc.text.clone();
            editor.text = doc.text.clone();
        }
        editor.version = doc.version.clone();
    }

    pub fn apply_failure(&mut self, request_id: RequestId, error: &str, detail: &ErrorDetail) -> bool {
        if self.files.fail(request_id, error.to_owned()) {
            return true;
        }
        if self.loading == Some(request_id) || self.checking == Some(request_id) {
            self.loading = self.loading.filter(|id| *id != request_id);
            self.checking = self.checking.filter(|id| *id != request_id);
            self.error = Some(error.to_owned());
            return true;
        }
        if self.saving != Some(request_id) {
            return false;
        }
        self.saving = None;
        match (detail, self.editor.as_mut()) {
            (ErrorDetail::ChangedOnDisk(theirs), Some(editor)) => {
                editor.version = Version::of(theirs.as_deref().map(str::as_bytes));
                editor.theirs = Some(theirs.clone());
            }
            _ => self.error = Some(error.to_owned()),
        }
        true
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn doc(text: &str) -> MemoryDoc {
        MemoryDoc {
            path: "/p/CLAUDE.md".into(),
            text: text.into(),
            version: Version::of(Some(text.as_bytes())),
        }
    }

    fn opened(text: &str) -> MemoryState {
        let mut state = MemoryState {
            loading: Some(1),
            ..Default::default()
        };
        assert!(state.apply_output(1, &Reply::MemoryDoc(doc(text)), |_| None));
        state
    }

    #[test]
    fn a_draft_differing_from_the_file_is_offered() {
        let mut state = MemoryState {
            loading: Some(1),
            ..Default::default()
        };
        state.apply_output(1, &Reply::MemoryDoc(doc("disk")), |_| Some("draft".into()));
        assert_eq!(state.editor.unwrap().draft.as_deref(), Some("draft"));
        let mut state = MemoryState {
            loading: Some(1),
            ..Default::default()
        };
        state.apply_output(1, &Reply::MemoryDoc(doc("disk")), |_| Some("disk".into()));
        assert_eq!(state.editor.unwrap().draft, None);
    }

    #[test]
    fn a_change_on_disk_is_taken_when_clean_and_offered_when_dirty() {
        let mut state = opened("one");
        state.checking = Some(2);
        state.apply_output(2, &Reply::MemoryDoc(doc("two")), |_| None);
        let editor = state.editor.as_ref().unwrap();
        assert_eq!((editor.text.as_str(), editor.theirs.is_none()), ("two", true));

        state.editor.as_mut().unwrap().text = "mine".into();
        state.checking = Some(3);
        state.apply_output(3, &Reply::MemoryDoc(doc("three")), |_| None);
        let editor = state.editor.as_ref().unwrap();
        assert_eq!(editor.text, "mine", "unsaved text is never replaced");
        assert_eq!(editor.theirs, Some(Some("three".into())));
        assert!(state.dirty());
    }

    #[test]
    fn an_answer_nobody_waits_for_changes_nothing() {
        let mut state = opened("one");
        assert!(!state.apply_output(9, &Reply::MemoryDoc(doc("stale")), |_| None));
        assert_eq!(state.editor.unwrap().text, "one");
    }

    #[test]
    fn a_refused_save_becomes_a_change_on_disk() {
        let mut state = opened("one");
        state.editor.as_mut().unwrap().text = "mine".into();
        state.saving = Some(4);
        assert!(state.apply_failure(4, "changed", &ErrorDetail::ChangedOnDisk(Some("theirs".into()))));
        let editor = state.editor.as_ref().unwrap();
        assert_eq!(editor.theirs, Some(Some("theirs".into())));
        assert_eq!(
            editor.version,
            Version::of(Some(b"theirs")),
            "a save now means on top of theirs"
        );
        assert_eq!(
            merge_text("mine", "theirs\n"),
            "<<<<<<< mine\nmine\n=======\ntheirs\n>>>>>>> on disk\n"
        );
    }
}
