//! What the Agents screen shows: the agents, the run history, live and recorded run output, and
//! the dialogs (editor, run, import).

use std::collections::HashMap;
use std::sync::Arc;

use crate::backend::command::RequestId;
use crate::domain::agents::files::{Conflict, ImportPreview};
use crate::domain::agents::requests::{Reply, RunOutput, RunStarted};
use crate::domain::agents::table::{AgentRun, RunStatus};
use crate::domain::agents::trust::Trust;
use crate::domain::agents::{Agent, AgentDraft};
use crate::domain::claude::stream::StreamMessage;
use crate::domain::process::RunId;

use super::{ChatSession, Requested};

/// Which part of the Agents screen is shown.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum AgentsView {
    #[default]
    List,
    History,
    /// One run's output.
    Run(i64),
}

/// The agent form: a new agent (`id` None) or an edit.
#[derive(Debug, Clone, Default)]
pub struct AgentEditor {
    pub id: Option<i64>,
    pub draft: AgentDraft,
    /// The tool rules as typed (one per line).
    pub allowed_text: String,
    pub disallowed_text: String,
    pub error: Option<String>,
    pub saving: Option<RequestId>,
}

impl AgentEditor {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn edit(agent: &Agent) -> Self {
        Self {
            id: Some(agent.id),
            draft: agent.draft.clone(),
            allowed_text: agent.draft.allowed_tools.join("\n"),
            disallowed_text: agent.draft.disallowed_tools.join("\n"),
            error: None,
            saving: None,
        }
    }
}

/// The "run this agent" dialog.
#[derive(Debug, Clone, Default)]
pub struct RunDialog {
    pub agent_id: i64,
    pub agent_name: String,
    pub project: String,
    pub task: String,
    pub model: String,
}

/// The import dialog.
#[derive(Debug, Default)]
pub struct ImportDialog {
    pub path: String,
    pub preview: Requested<Vec<ImportPreview>>,
    pub conflict: Option<Conflict>,
    /// The person ticked "I trust these hooks and permission modes" for the preview shown.
    pub trusted: bool,
    /// The import request in flight.
    pub importing: Option<RequestId>,
    /// Why the import failed.
    pub error: Option<String>,
}

impl ImportDialog {
    /// Whether the previewed file carries hooks or a mode that skips questions.
    pub fn needs_trust(&self) -> bool {
        self.preview
            .value()
            .is_some_and(|preview| preview.iter().any(|p| p.needs_trust))
    }

    /// The trust the tick gives: what the preview showed, and nothing the file may hold since.
    pub fn trust(&self) -> Trust {
        match self.preview.value() {
            Some(preview) if self.trusted => Trust::Shown(
                preview
                    .iter()
                    .map(ImportPreview::risks)
                    .filter(|risks| !risks.is_empty())
                    .collect(),
            ),
            _ => Trust::Nothing,
        }
    }

    /// Whether Import may be pressed: a preview is shown and no newer one is on its way, nothing is in
    /// flight, and what needs trust is trusted.
    pub fn can_import(&self) -> bool {
        self.preview.value().is_some()
            && !self.preview.is_pending()
            && self.importing.is_none()
            && (self.trusted || !self.needs_trust())
    }
}

#[derive(Debug, Default)]
pub struct AgentsStore {
    pub view: AgentsView,
    pub agents: Requested<Vec<Agent>>,
    pub runs: Requested<Vec<AgentRun>>,
    /// Filters of the history.
    pub filter_agent: Option<i64>,
    pub filter_status: Option<RunStatus>,
    pub editor: Option<AgentEditor>,
    pub run_dialog: Option<RunDialog>,
    pub import: Option<ImportDialog>,
    /// The export dialog: which agents (None: all) and the file.
    pub export: Option<(Option<Vec<i64>>, String)>,
    pub confirm_delete: Option<Agent>,
    /// Output of runs, live or read back, as conversations.
    pub outputs: HashMap<i64, ChatSession>,
    /// Live runs: process run id to history id.
    live: HashMap<RunId, i64>,
    /// The agent list or history changed and should be read again.
    pub stale: bool,
}

impl AgentsStore {
    pub fn agent(&self, id: i64) -> Option<&Agent> {
        self.agents.value()?.iter().find(|a| a.id == id)
    }

    pub fn run(&self, id: i64) -> Option<&AgentRun> {
        self.runs.value()?.iter().find(|r| r.id == id)
    }

    pub fn is_live(&self, agent_run_id: i64) -> bool {
        self.live.values().any(|id| *id == agent_run_id)
    }

    pub fn apply_output(&mut self, request_id: RequestId, output: &Reply) -> bool {
        match output {
            Reply::Agents(agents) => self.agents.finish(request_id, agents.clone()),
            Reply::AgentRuns(runs) => self.runs.finish(request_id, runs.clone()),
            Reply::Agent(_) | Reply::AgentDeleted(_) | Reply::AgentsImported(_) => {
                if self.editor.as_ref().is_some_and(|e| e.saving == Some(request_id)) {
                    self.editor = None;
                }
                if let Reply::AgentsImported(_) = output {
                    self.import = None;
                }
                self.stale = true;
                true
            }
            Reply::AgentsExported(_) => {
                self.export = None;
                true
            }
            Reply::AgentImportPreview(preview) => self.import.as_mut().is_some_and(|dialog| {
                let shown = dialog.preview.finish(request_id, preview.clone());
                if shown {
                    // A new preview is trusted anew.
                    dialog.trusted = false;
                    dialog.error = None;
                }
                shown
            }),
            Reply::AgentRunStarted(RunStarted {
                agent_run_id, run_id, ..
            }) => {
                self.live.insert(*run_id, *agent_run_id);
                let mut session = ChatSession::new(format!("Run #{agent_run_id}"), String::new());
                session.run = Some(super::ActiveRun {
                    request_id,
                    run_id: Some(*run_id),
                    stopping: false,
                });
                self.outputs.insert(*agent_run_id, session);
                self.view = AgentsView::Run(*agent_run_id);
                self.stale = true;
                true
            }
            Reply::AgentRunOutput(RunOutput { agent_run_id, lines }) => {
                let mut session = ChatSession::new(format!("Run #{agent_run_id}"), String::new());
                for line in lines {
                    session.apply_message(0, &line.message, line.raw.clone());
                }
                // A recorded run has no one left to answer.
                session.permissions.clear();
                self.outputs.insert(*agent_run_id, session);
                self.view = AgentsView::Run(*agent_run_id);
                true
            }
            _ => false,
        }
    }

    /// A failed request: the dialog that waits for it shows why.
    pub fn apply_failure(&mut self, request_id: RequestId, error: &str) -> bool {
        if let Some(editor) = self.editor.as_mut().filter(|e| e.saving == Some(request_id)) {
            editor.saving = None;
            editor.error = Some(error.to_owned());
            return true;
        }
        if let Some(dialog) = self.import.as_mut() {
            if dialog.preview.fail(request_id, error.to_owned()) {
                return true;
            }
            if dialog.importing == Some(request_id) {
                dialog.importing = None;
                dialog.error = Some(error.to_owned());
                return true;
            }
        }
        self.agents.fail(request_id, error.to_owned()) || self.runs.fail(request_id, error.to_owned())
    }

    pub fn apply_agent_output(&mut self, run_id: RunId, message: Arc<StreamMessage>, raw: Arc<str>) {
        if let Some(session) = self.live.get(&run_id).and_then(|id| self.outputs.get_mut(id)) {
            session.apply_message(run_id, &message, raw);
        }
    }

    pub fn apply_agent_error(&mut self, run_id: RunId, message: String) {
        if let Some(session) = self.live.get(&run_id).and_then(|id| self.outputs.get_mut(id)) {
            session.error = Some(message);
        }
    }

    /// A history row changed: replace it in the list (newest first) and end a finished live run.
    pub fn apply_run(&mut self, run: AgentRun) {
        if run.status.is_final() {
            self.live.retain(|_, id| *id != run.id);
            if let Some(session) = self.outputs.get_mut(&run.id) {
                session.run = None;
                session.permissions.clear();
            }
        }
        let mut runs = self.runs.value().cloned().unwrap_or_default();
        match runs.iter_mut().find(|r| r.id == run.id) {
            Some(existing) => *existing = run,
            None => runs.insert(0, run),
        }
        self.runs.replace(runs);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::domain::claude::stream::{ParsedLine, parse_line};

    fn run(id: i64, status: RunStatus) -> AgentRun {
        AgentRun {
            id,
            agent_id: Some(1),
            agent_name: "A".into(),
            agent_icon: "bot".into(),
            task: "t".into(),
            model: "sonnet".into(),
            project_path: "/p".into(),
            session_id: None,
            status,
            pid: None,
            exit_code: None,
            error: None,
            started_at: "2026-01-01".into(),
            finished_at: None,
            duration_ms: None,
            num_turns: None,
            input_tokens: 0,
            output_tokens: 0,
            cache_creation_tokens: 0,
            cache_read_tokens: 0,
            total_cost_usd: None,
        }
    }

    #[test]
    fn live_output_goes_to_its_run_until_it_ends() {
        let mut store = AgentsStore::default();
        store.apply_output(
            3,
            &Reply::AgentRunStarted(RunStarted {
                agent_run_id: 7,
                run_id: 40,
                pid: 1,
            }),
        );
        assert_eq!(store.view, AgentsView::Run(7));
        let line = r#"{"type":"assistant","message":{"content":[{"type":"text","text":"hi"}]}}"#;
        let ParsedLine::Message(message) = parse_line(line) else {
            panic!()
        };
        store.apply_agent_output(40, Arc::new(message), Arc::from(line));
        assert_eq!(store.outputs[&7].items.len(), 1);
        store.apply_run(run(7, RunStatus::Running));
        assert!(store.is_live(7));
        store.apply_run(run(7, RunStatus::Completed));
        assert!(!store.is_live(7));
        assert!(!store.outputs[&7].is_busy());
        assert_eq!(
            store.runs.value().unwrap().len(),
            1,
            "the row was replaced, not added twice"
        );
    }

    #[test]
    fn recorded_output_arrives_parsed_and_becomes_a_conversation() {
        let mut store = AgentsStore::default();
        let text = "{\"type\":\"assistant\",\"message\":{\"content\":[{\"type\":\"text\",\"text\":\"hi\"}]}}\n\
                    not json\n\n{\"type\":\"assistant\",\"message\":{\"content\":[{\"type\":\"text\",\"text\":\"bye\"}]}}\n";
        let lines = crate::domain::claude::stream::parse_recorded(text, 10);
        assert_eq!(lines.len(), 2, "garbage and blank lines are skipped");
        assert!(store.apply_output(
            1,
            &Reply::AgentRunOutput(RunOutput {
                agent_run_id: 9,
                lines: lines.clone(),
            })
        ));
        assert_eq!(store.view, AgentsView::Run(9));
        let session = &store.outputs[&9];
        assert_eq!(session.items.len(), 2);
        assert_eq!(session.to_jsonl().lines().count(), 2);
        assert_eq!(
            serde_json::to_value(&lines[0]).unwrap(),
            serde_json::Value::String(lines[0].raw.to_string()),
            "serialized as the line it came from"
        );
        assert_eq!(crate::domain::claude::stream::parse_recorded(text, 1).len(), 1);
    }

    #[test]
    fn import_waits_for_trust_in_what_the_preview_showed() {
        let text = r#"{"format":"anyon-agents","version":1,"exported_at":"x","agents":[
            {"name":"H","icon":"bot","system_prompt":"","model":"sonnet","permission_mode":"dontAsk"}]}"#;
        let records = crate::domain::agents::files::parse(text).unwrap();
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        crate::domain::db::migrate(&mut conn, std::path::Path::new(":memory:")).unwrap();
        let preview = crate::domain::agents::files::preview(&conn, records).unwrap();
        let mut store = AgentsStore {
            import: Some(ImportDialog::default()),
            ..Default::default()
        };
        store.import.as_mut().unwrap().preview.start(1);
        assert!(store.apply_output(1, &Reply::AgentImportPreview(preview.clone())));
        let dialog = store.import.as_mut().unwrap();
        assert!(dialog.needs_trust() && !dialog.can_import());
        assert_eq!(dialog.trust(), Trust::Nothing);
        dialog.trusted = true;
        assert!(dialog.can_import());
        assert_eq!(dialog.trust(), Trust::Shown(vec![preview[0].risks()]));
        // While a new preview is on its way, and once it is shown, the tick no longer counts.
        dialog.preview.start(2);
        assert!(!dialog.can_import());
        store.apply_output(2, &Reply::AgentImportPreview(preview));
        let dialog = store.import.as_ref().unwrap();
        assert!(!dialog.trusted && !dialog.can_import());
    }

    #[test]
    fn editor_errors_stay_in_the_editor() {
        let mut store = AgentsStore {
            editor: Some(AgentEditor {
                saving: Some(5),
                ..AgentEditor::new()
            }),
            ..Default::default()
        };
        assert!(store.apply_failure(5, "an agent named \"A\" already exists"));
        let editor = store.editor.as_ref().unwrap();
        assert!(editor.error.as_deref().unwrap().contains("already exists"));
        assert!(editor.saving.is_none());
    }
}
