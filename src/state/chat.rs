//! The chat tabs' state: each tab's conversation as display items, its running turn, queued
//! prompts and waiting permission prompts. Fed by `ClaudeOutput` and `RunFinished` events.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::Value;

use crate::domain::claude::permission::PermissionMode;

use crate::backend::command::RequestId;
use crate::domain::claude::run::RunOutcome;
use crate::domain::claude::stream::{
    CanUseTool, ContentBlock, IncomingRequest, ResultMessage, StreamMessage, SystemMessage, UserContent,
};

use super::attachments::Attachment;
use crate::domain::process::RunId;

/// Items a tab keeps; older ones are dropped (they stay in Claude's transcript on disk).
pub const MAX_ITEMS: usize = 20_000;
/// Outputs kept for a run whose start has not been confirmed yet.
const MAX_EARLY_OUTPUTS: usize = 1024;

/// One thing shown in a conversation.
#[derive(Debug, Clone, PartialEq)]
pub enum ChatItem {
    /// What the person sent.
    Prompt {
        text: String,
    },
    /// Claude's text (Markdown).
    Text {
        text: String,
        subagent: bool,
    },
    Thinking {
        text: String,
    },
    /// A tool call, paired with its result when it arrives.
    Tool(ToolCall),
    /// A turn's figures.
    Footer(RunFooter),
    /// Something the app says (stopped, retrying, ...).
    Notice {
        text: String,
        error: bool,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    pub input: Value,
    /// The subagent task this call belongs to.
    pub parent: Option<String>,
    pub result: Option<ToolOutcome>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ToolOutcome {
    pub text: String,
    pub is_error: bool,
    /// The tool's structured result (Bash: stdout/stderr).
    pub structured: Option<Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RunFooter {
    pub cost_usd: Option<f64>,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_creation_tokens: u64,
    pub duration_ms: Option<u64>,
    pub turns: Option<u64>,
    pub is_error: bool,
}

/// A tool waiting for the person's decision.
#[derive(Debug, Clone)]
pub struct PermissionPrompt {
    pub run_id: RunId,
    pub request_id: String,
    pub request: Arc<CanUseTool>,
    /// The deny reason being typed.
    pub reason: String,
}

/// The turn a tab is running.
#[derive(Debug, Clone, PartialEq)]
pub struct ActiveRun {
    /// The request that starts it.
    pub request_id: RequestId,
    /// Known once the process started.
    pub run_id: Option<RunId>,
    pub stopping: bool,
}

/// One chat tab.
#[derive(Debug, Clone, Default)]
pub struct ChatSession {
    pub title: String,
    pub project: String,
    pub session_id: Option<String>,
    pub model: String,
    /// None: Claude's own default.
    pub permission_mode: Option<PermissionMode>,
    pub append_system_prompt: String,
    /// The prompt being typed.
    pub input: String,
    /// Prompts sent while a turn ran; sent in order when it ends.
    pub queue: VecDeque<String>,
    pub run: Option<ActiveRun>,
    pub items: Vec<ChatItem>,
    /// Item index of each tool call, by tool-use id.
    tools: HashMap<String, usize>,
    pub permissions: Vec<PermissionPrompt>,
    /// The failed turn's message, shown as a banner.
    pub error: Option<String>,
    /// Raw stream lines of this tab (for copying as JSONL), bounded like the items.
    pub raw: VecDeque<Arc<str>>,
    /// Items dropped from the front to bound memory.
    pub dropped: usize,
    /// Images to send with the next prompt.
    pub attachments: Vec<Attachment>,
    /// Dropped images being read, by the request reading each.
    pub reading: Vec<RequestId>,
    /// The checkpoint timeline is open beside the conversation.
    pub show_timeline: bool,
    /// The session this tab branches off: its first prompt forks it (`--fork-session`).
    pub fork_from: Option<String>,
}

impl ChatSession {
    pub fn new(title: impl Into<String>, project: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            project: project.into(),
            ..Self::default()
        }
    }

    pub fn is_busy(&self) -> bool {
        self.run.is_some()
    }

    /// Appends an item (bounded: the oldest tenth goes when the tab holds [`MAX_ITEMS`]).
    pub fn push(&mut self, item: ChatItem) {
        if self.items.len() >= MAX_ITEMS {
            let drop = MAX_ITEMS / 10;
            self.items.drain(..drop);
            self.dropped += drop;
            self.tools.retain(|_, index| *index >= drop);
            self.tools.values_mut().for_each(|index| *index -= drop);
        }
        if let ChatItem::Tool(call) = &item {
            self.tools.insert(call.id.clone(), self.items.len());
        }
        self.items.push(item);
    }

    /// Records a prompt the person sent.
    pub fn push_prompt(&mut self, text: &str) {
        self.error = None;
        self.push(ChatItem::Prompt { text: text.to_owned() });
    }

    /// Folds one stream line into the conversation.
    pub fn apply_message(&mut self, run_id: RunId, message: &StreamMessage, raw: Arc<str>) {
        if self.raw.len() >= MAX_ITEMS {
            self.raw.pop_front();
        }
        self.raw.push_back(raw);
        match message {
            StreamMessage::System(SystemMessage::Init(init)) => {
                if let Some(id) = &init.session_id {
                    self.session_id = Some(id.clone());
                }
            }
            StreamMessage::System(SystemMessage::ApiRetry(retry)) => self.push(ChatItem::Notice {
                text: format!("The API failed; retrying (attempt {})", retry.attempt),
                error: false,
            }),
            StreamMessage::Assistant(assistant) => {
                let subagent = assistant.parent_tool_use_id.is_some();
                if let Some(error) = &assistant.error {
                    let text = assistant.message.content.iter().find_map(|b| match b {
                        ContentBlock::Text { text } => Some(text.clone()),
                        _ => None,
                    });
                    self.error = Some(text.unwrap_or_else(|| format!("Claude reported an error: {error}")));
                    return;
                }
                for block in &assistant.message.content {
                    match block {
                        ContentBlock::Text { text } => self.push(ChatItem::Text {
                            text: text.clone(),
                            subagent,
                        }),
                        ContentBlock::Thinking { thinking, .. } => {
                            self.push(ChatItem::Thinking { text: thinking.clone() })
                        }
                        ContentBlock::ToolUse { id, name, input } => self.push(ChatItem::Tool(ToolCall {
                            id: id.clone(),
                            name: name.clone(),
                            input: input.clone(),
                            parent: assistant.parent_tool_use_id.clone(),
                            result: None,
                        })),
                        _ => {}
                    }
                }
            }
            StreamMessage::User(user) => {
                for result in user.tool_results() {
                    let outcome = ToolOutcome {
                        text: result.content.text(),
                        is_error: result.is_error,
                        structured: user.tool_use_result.clone(),
                    };
                    if let Some(ChatItem::Tool(call)) = self
                        .tools
                        .get(result.tool_use_id)
                        .and_then(|index| self.items.get_mut(*index))
                    {
                        call.result = Some(outcome);
                    }
                }
                if let UserContent::Blocks(blocks) = &user.message.content
                    && blocks
                        .iter()
                        .any(|b| matches!(b, ContentBlock::Text { text } if text.contains("[Request interrupted")))
                {
                    self.push(ChatItem::Notice {
                        text: "Interrupted.".into(),
                        error: false,
                    });
                }
            }
            StreamMessage::Result(result) => {
                self.push(ChatItem::Footer(footer(result)));
                if result.is_error {
                    self.error = Some(result.error_text());
                }
            }
            StreamMessage::ControlRequest(request) => {
                if let IncomingRequest::CanUseTool(ask) = &request.request {
                    self.permissions.push(PermissionPrompt {
                        run_id,
                        request_id: request.request_id.clone(),
                        request: Arc::new((**ask).clone()),
                        reason: String::new(),
                    });
                }
            }
            _ => {}
        }
    }

    /// The turn ended.
    pub fn apply_finished(&mut self, outcome: &RunOutcome) {
        self.run = None;
        self.permissions.retain(|p| p.run_id != outcome.run_id);
        if let Some(id) = &outcome.session_id {
            self.session_id = Some(id.clone());
        }
        if outcome.cancelled {
            self.push(ChatItem::Notice {
                text: "Stopped.".into(),
                error: false,
            });
        } else if self.error.is_none() {
            self.error = outcome.error.clone();
        }
    }

    /// The conversation as Markdown, for the clipboard.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        for item in &self.items {
            match item {
                ChatItem::Prompt { text } => out.push_str(&format!("## You\n\n{text}\n\n")),
                ChatItem::Text { text, .. } => out.push_str(&format!("## Claude\n\n{text}\n\n")),
                ChatItem::Thinking { text } => {
                    out.push_str(&format!("> *Thinking:* {}\n\n", text.replace('\n', "\n> ")))
                }
                ChatItem::Tool(call) => {
                    out.push_str(&format!("**{}** `{}`\n\n", call.name, call.input));
                    if let Some(result) = &call.result {
                        out.push_str(&format!("```\n{}\n```\n\n", result.text));
                    }
                }
                ChatItem::Footer(f) => out.push_str(&format!(
                    "*{} · {} in / {} out tokens*\n\n",
                    f.cost_usd.map_or("cost unknown".into(), |c| format!("${c:.4}")),
                    f.input_tokens,
                    f.output_tokens
                )),
                ChatItem::Notice { text, .. } => out.push_str(&format!("*{text}*\n\n")),
            }
        }
        out
    }

    /// The raw stream lines, one per line.
    pub fn to_jsonl(&self) -> String {
        self.raw.iter().map(|line| format!("{line}\n")).collect()
    }
}

fn footer(result: &ResultMessage) -> RunFooter {
    let usage = result.usage.clone().unwrap_or_default();
    RunFooter {
        cost_usd: result.total_cost_usd,
        input_tokens: usage.input_tokens,
        output_tokens: usage.output_tokens,
        cache_read_tokens: usage.cache_read_input_tokens,
        cache_creation_tokens: usage.cache_creation_input_tokens,
        duration_ms: result.duration_ms,
        turns: result.num_turns,
        is_error: result.is_error,
    }
}

/// A parsed stream line with the text it came from.
type StreamLine = (Arc<StreamMessage>, Arc<str>);

/// Every chat tab's session, by tab id, and which tab each run belongs to.
#[derive(Debug, Default)]
pub struct ChatStore {
    pub sessions: HashMap<u64, ChatSession>,
    runs: HashMap<RunId, u64>,
    /// Outputs that arrived before the run's start was confirmed.
    early: HashMap<RunId, Vec<StreamLine>>,
    early_finished: HashMap<RunId, RunOutcome>,
}

impl ChatStore {
    /// A run was started for the tab whose active run waits for `request_id`.
    pub fn run_started(&mut self, request_id: RequestId, run_id: RunId) -> bool {
        let Some((tab, session)) = self.sessions.iter_mut().find(|(_, s)| {
            s.run
                .as_ref()
                .is_some_and(|r| r.request_id == request_id && r.run_id.is_none())
        }) else {
            return false;
        };
        if let Some(run) = session.run.as_mut() {
            run.run_id = Some(run_id);
        }
        self.runs.insert(run_id, *tab);
        for (message, raw) in self.early.remove(&run_id).unwrap_or_default() {
            session.apply_message(run_id, &message, raw);
        }
        if let Some(outcome) = self.early_finished.remove(&run_id) {
            session.apply_finished(&outcome);
        }
        true
    }

    /// A run could not start.
    /// A dropped image was read: it becomes an attachment of the tab that asked for it.
    pub fn image_read(&mut self, request_id: RequestId, path: &std::path::Path, bytes: Vec<u8>) -> bool {
        let Some(session) = self.sessions.values_mut().find(|s| s.reading.contains(&request_id)) else {
            return false;
        };
        session.reading.retain(|r| *r != request_id);
        match super::image_media_type(path) {
            Some(media_type) => session.attachments.push(Attachment {
                name: path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                media_type: media_type.to_owned(),
                bytes,
            }),
            None => session.error = Some(format!("{} is not a PNG, JPEG, GIF or WebP image", path.display())),
        }
        true
    }

    /// A dropped image could not be read: the tab says why.
    pub fn image_failed(&mut self, request_id: RequestId, error: &str) -> bool {
        let Some(session) = self.sessions.values_mut().find(|s| s.reading.contains(&request_id)) else {
            return false;
        };
        session.reading.retain(|r| *r != request_id);
        session.error = Some(error.to_owned());
        true
    }

    pub fn run_failed(&mut self, request_id: RequestId, error: &str) -> bool {
        let Some(session) = self
            .sessions
            .values_mut()
            .find(|s| s.run.as_ref().is_some_and(|r| r.request_id == request_id))
        else {
            return false;
        };
        session.run = None;
        session.error = Some(error.to_owned());
        true
    }

    pub fn apply_output(&mut self, run_id: RunId, message: Arc<StreamMessage>, raw: Arc<str>) {
        match self.runs.get(&run_id).and_then(|tab| self.sessions.get_mut(tab)) {
            Some(session) => session.apply_message(run_id, &message, raw),
            None => {
                let early = self.early.entry(run_id).or_default();
                if early.len() < MAX_EARLY_OUTPUTS {
                    early.push((message, raw));
                }
            }
        }
    }

    pub fn apply_finished(&mut self, outcome: RunOutcome) {
        match self
            .runs
            .remove(&outcome.run_id)
            .and_then(|tab| self.sessions.get_mut(&tab))
        {
            Some(session) => session.apply_finished(&outcome),
            None => {
                self.early_finished.insert(outcome.run_id, outcome);
            }
        }
    }

    /// The number of tabs with a running turn.
    pub fn busy_tabs(&self) -> usize {
        self.sessions.values().filter(|s| s.is_busy()).count()
    }
}

/// The project folder a new chat starts in: the last one used, else the home folder.
pub fn default_project(last: Option<&str>) -> String {
    last.map(str::to_owned)
        .or_else(|| directories::BaseDirs::new().map(|b| b.home_dir().display().to_string()))
        .unwrap_or_else(|| PathBuf::from(".").display().to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::domain::claude::stream::ParsedLine;
    use crate::domain::claude::stream::parse_line;

    fn message(json: &str) -> Arc<StreamMessage> {
        match parse_line(json) {
            ParsedLine::Message(m) => Arc::new(m),
            other => panic!("{other:?}"),
        }
    }

    fn feed(store: &mut ChatStore, run_id: RunId, json: &str) {
        store.apply_output(run_id, message(json), Arc::from(json));
    }

    #[test]
    fn a_read_image_reaches_the_tab_that_dropped_it() {
        let mut store = ChatStore::default();
        let mut shown = ChatSession::new("New chat", "/p");
        shown.reading = vec![4, 5];
        store.sessions.insert(1, shown);
        store.sessions.insert(2, ChatSession::new("Other", "/q"));
        assert!(store.image_read(4, std::path::Path::new("/d/shot.PNG"), vec![1, 2, 3]));
        assert!(store.image_failed(5, "cannot read /d/b.png: it is larger than 5120 KiB"));
        assert!(
            !store.image_read(4, std::path::Path::new("/d/shot.png"), vec![]),
            "answered once"
        );
        let session = &store.sessions[&1];
        assert_eq!(session.attachments.len(), 1);
        assert_eq!(
            (
                session.attachments[0].name.as_str(),
                session.attachments[0].media_type.as_str()
            ),
            ("shot.PNG", "image/png")
        );
        assert!(session.error.as_deref().is_some_and(|e| e.contains("larger than")));
        assert!(session.reading.is_empty());
        assert!(store.sessions[&2].attachments.is_empty());
    }

    fn store_with_run() -> ChatStore {
        let mut store = ChatStore::default();
        let mut session = ChatSession::new("New chat", "/p");
        session.run = Some(ActiveRun {
            request_id: 9,
            run_id: None,
            stopping: false,
        });
        store.sessions.insert(1, session);
        store
    }

    #[test]
    fn outputs_before_the_start_confirmation_are_kept_and_tools_pair_with_results() {
        let mut store = store_with_run();
        feed(
            &mut store,
            5,
            r#"{"type":"system","subtype":"init","session_id":"s-1"}"#,
        );
        assert!(store.run_started(9, 5));
        feed(
            &mut store,
            5,
            r#"{"type":"assistant","message":{"id":"m1","content":[{"type":"tool_use","id":"t1","name":"Bash","input":{"command":"ls"}}]}}"#,
        );
        feed(
            &mut store,
            5,
            r#"{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"a.txt","is_error":false}]}}"#,
        );
        feed(
            &mut store,
            5,
            r#"{"type":"assistant","message":{"id":"m2","content":[{"type":"text","text":"Done"}]}}"#,
        );
        feed(
            &mut store,
            5,
            r#"{"type":"result","subtype":"success","is_error":false,"total_cost_usd":0.01,"num_turns":2,"usage":{"input_tokens":3,"output_tokens":4}}"#,
        );
        let session = &store.sessions[&1];
        assert_eq!(session.session_id.as_deref(), Some("s-1"));
        let ChatItem::Tool(call) = &session.items[0] else {
            panic!("{:?}", session.items)
        };
        assert_eq!(call.result.as_ref().map(|r| r.text.as_str()), Some("a.txt"));
        assert_eq!(
            session.items[1],
            ChatItem::Text {
                text: "Done".into(),
                subagent: false
            }
        );
        assert!(matches!(&session.items[2], ChatItem::Footer(f) if f.output_tokens == 4 && f.turns == Some(2)));
        assert_eq!(session.to_jsonl().lines().count(), 5);
        store.apply_finished(RunOutcome {
            run_id: 5,
            session_id: Some("s-1".into()),
            exit_code: Some(0),
            cancelled: false,
            stderr_tail: String::new(),
            garbage_lines: 0,
            metrics: None,
            error: None,
        });
        assert!(!store.sessions[&1].is_busy());
        assert!(store.sessions[&1].error.is_none());
    }

    #[test]
    fn failures_show_the_clis_own_message() {
        let mut store = store_with_run();
        store.run_started(9, 2);
        feed(
            &mut store,
            2,
            r#"{"type":"assistant","error":"authentication_failed","message":{"model":"<synthetic>","content":[{"type":"text","text":"Not logged in · Please run /login"}]}}"#,
        );
        feed(
            &mut store,
            2,
            r#"{"type":"result","subtype":"success","is_error":true,"result":"Not logged in · Please run /login"}"#,
        );
        assert_eq!(
            store.sessions[&1].error.as_deref(),
            Some("Not logged in · Please run /login")
        );

        let mut store = store_with_run();
        store.run_started(9, 3);
        store.apply_finished(RunOutcome {
            run_id: 3,
            session_id: None,
            exit_code: Some(2),
            cancelled: false,
            stderr_tail: "boom".into(),
            garbage_lines: 0,
            metrics: None,
            error: Some("Claude exited with status 2: boom".into()),
        });
        assert_eq!(
            store.sessions[&1].error.as_deref(),
            Some("Claude exited with status 2: boom")
        );
        assert!(!store.run_failed(1234, "x"));
    }

    #[test]
    fn permission_prompts_wait_and_memory_stays_bounded() {
        let mut store = store_with_run();
        store.run_started(9, 4);
        feed(
            &mut store,
            4,
            r#"{"type":"control_request","request_id":"r1","request":{"subtype":"can_use_tool","tool_name":"Write","input":{"file_path":"a"}}}"#,
        );
        assert_eq!(store.sessions[&1].permissions.len(), 1);
        let session = store.sessions.get_mut(&1).unwrap();
        for i in 0..(MAX_ITEMS + 10) {
            session.push(ChatItem::Notice {
                text: i.to_string(),
                error: false,
            });
        }
        assert!(session.items.len() <= MAX_ITEMS);
        assert!(session.dropped > 0);
    }
}
