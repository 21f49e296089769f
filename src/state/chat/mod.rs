//! The chat tabs' state: each tab's conversation as display items, its running turn, queued
//! prompts and waiting permission prompts. Fed by `ClaudeOutput` and `RunFinished` events.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::Value;

use crate::domain::claude::permission::PermissionMode;
use crate::domain::claude::questions::{
    ASK_USER_QUESTION, EXIT_PLAN_MODE, PLAN_FOLLOW_UP_MODES, Question, QuestionAnswer, answered_input, questions,
};

use crate::backend::command::RequestId;
use crate::domain::claude::run::RunOutcome;
use crate::domain::claude::stream::{
    CanUseTool, ContentBlock, IncomingRequest, InitializeResponse, McpServerStatus, RateLimitInfo, ResultMessage,
    StreamMessage, SystemMessage, UserContent,
};

use super::attachments::Attachment;
use crate::domain::process::RunId;
use crate::domain::transcripts::page::{LineContent, PageLine, SessionPage};

mod earlier;

pub use earlier::{EARLIER_PAGE_LINES, EarlierMessages};

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
    /// The deny reason being typed (for a plan: what to change, "Keep planning").
    pub reason: String,
    /// `ExitPlanMode`: the mode to carry the plan out in once approved.
    pub plan_mode: PermissionMode,
    /// `AskUserQuestion`: its questions, and the answers being chosen (one per question).
    pub questions: Vec<Question>,
    pub answers: Vec<QuestionAnswer>,
}

impl PermissionPrompt {
    pub fn new(run_id: RunId, request_id: String, request: CanUseTool) -> Self {
        let questions = if request.tool_name == ASK_USER_QUESTION {
            questions(&request.input)
        } else {
            Vec::new()
        };
        Self {
            run_id,
            request_id,
            answers: questions.iter().map(QuestionAnswer::for_question).collect(),
            questions,
            request: Arc::new(request),
            reason: String::new(),
            plan_mode: PLAN_FOLLOW_UP_MODES[0],
        }
    }

    /// Claude presents a plan to approve.
    pub fn is_plan(&self) -> bool {
        self.request.tool_name == EXIT_PLAN_MODE
    }

    /// Claude asks multiple-choice questions (a call without readable questions is an ordinary card).
    pub fn is_questions(&self) -> bool {
        self.request.tool_name == ASK_USER_QUESTION && !self.questions.is_empty()
    }

    /// The question tool's input with the chosen answers, once every question has one.
    pub fn answered_input(&self) -> Option<Value> {
        answered_input(&self.request.input, &self.questions, &self.answers)
    }
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
    /// The latest usage-limit state the CLI reported (`rate_limit_event`), and when it came.
    pub rate_limit: Option<RateLimitInfo>,
    pub rate_limit_seen_ms: i64,
    /// The person closed the limit banner (until the next change).
    pub rate_limit_dismissed: bool,
    /// A resumed session's conversation so far, while it is read from its transcript.
    pub earlier: Option<EarlierMessages>,
    /// More folders the tools may work in (`--add-dir`), one per line as typed.
    pub add_dirs: String,
    /// The most one turn may cost, in dollars, as typed (empty: no limit).
    pub budget: String,
    /// The model to fall back to when the chosen one is overloaded; empty for none.
    pub fallback_model: String,
    /// The output style chosen for this chat (one the CLI offered); empty for the configured one.
    pub output_style: String,
    /// Where the text streaming in token by token starts (an absolute item index, counting dropped
    /// items): the streamed items are replaced by the complete message when it arrives.
    live_from: Option<usize>,
    /// The streamed block ended (another began): the next delta starts a new item.
    live_block_closed: bool,
    /// What the CLI offers this session (its answer to `initialize`): models, commands, output styles.
    pub offered: Option<Arc<InitializeResponse>>,
    /// The session's MCP servers and their state, as the latest turn started with them.
    pub mcp_servers: Vec<McpServerStatus>,
    /// Tokens the conversation fills of the model's context (the latest main request's input, cache
    /// and output tokens), and the model's window when the CLI said (`modelUsage.contextWindow`).
    pub context_used: u64,
    pub context_window: Option<u64>,
    /// The model the session runs with (`init`), for the window when the CLI did not say.
    pub running_model: Option<String>,
    /// Background tasks (subagents) of the session, by task id, in the order they started.
    pub tasks: Vec<TaskState>,
}

/// A background task (`task_started`, `task_progress`, `task_notification`) as last reported.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TaskState {
    pub id: String,
    pub description: String,
    /// `running`, `completed`, `failed`, ... as the CLI words it.
    pub status: String,
}

/// The context window assumed when the CLI did not report one: 1M for a `[1m]` model, else 200k.
pub fn default_context_window(model: Option<&str>) -> u64 {
    if model.is_some_and(|m| m.to_ascii_lowercase().contains("[1m]")) {
        1_000_000
    } else {
        200_000
    }
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

    /// The conversation so far is still being read: a prompt waits in the queue until it is shown, so the
    /// new turns follow the earlier ones.
    pub fn loading_earlier(&self) -> bool {
        self.earlier.as_ref().is_some_and(EarlierMessages::loading)
    }

    /// Folds one line of Claude's transcript into the conversation: prompts the person typed, then
    /// whatever the chat shows of Claude's messages (text, thinking, tool calls and their results).
    pub fn apply_transcript_line(&mut self, line: &PageLine) {
        match &line.content {
            LineContent::Prompt(prompt) => self.push_prompt(prompt),
            LineContent::Message(message) => self.apply_message(0, message, line.raw.clone()),
            LineContent::Nothing => {}
        }
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

    /// How full the model's context is: (tokens used, window), once a request reported its usage.
    pub fn context(&self) -> Option<(u64, u64)> {
        (self.context_used > 0).then(|| {
            (
                self.context_used,
                self.context_window
                    .unwrap_or_else(|| default_context_window(self.running_model.as_deref())),
            )
        })
    }

    fn apply_task(&mut self, task: &crate::domain::claude::stream::TaskInfo) {
        let Some(id) = task.task_id.clone().or_else(|| task.tool_use_id.clone()) else {
            return;
        };
        let index = match self.tasks.iter().position(|t| t.id == id) {
            Some(index) => index,
            None => {
                self.tasks.push(TaskState {
                    id,
                    status: "running".to_owned(),
                    ..TaskState::default()
                });
                self.tasks.len() - 1
            }
        };
        let state = &mut self.tasks[index];
        if let Some(description) = task.description.as_ref().filter(|d| !d.is_empty()) {
            state.description = description.clone();
        }
        if let Some(status) = task.status.as_ref().filter(|s| !s.is_empty()) {
            state.status = status.clone();
        }
    }

    /// The extra folders as typed, one per line, blanks left out.
    pub fn extra_dirs(&self) -> Vec<PathBuf> {
        self.add_dirs
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(PathBuf::from)
            .collect()
    }

    /// The budget as typed: `Ok(None)` when empty, an error saying why when it is not a positive amount.
    pub fn budget_usd(&self) -> Result<Option<f64>, String> {
        let text = self.budget.trim().trim_start_matches('$');
        if text.is_empty() {
            return Ok(None);
        }
        match text.parse::<f64>() {
            Ok(amount) if amount.is_finite() && amount > 0.0 => Ok(Some(amount)),
            _ => Err(format!(
                "The budget must be an amount of dollars above zero, like 0.50 (not {text:?})"
            )),
        }
    }

    /// A token-by-token piece of the answer (`stream_event`): text and thinking grow in place, one item
    /// per block, until the complete message replaces them.
    fn apply_partial(&mut self, event: &crate::domain::claude::stream::StreamEvent) {
        if event.parent_tool_use_id.is_some() {
            return;
        }
        let (delta, thinking) = match (event.text_delta(), event.thinking_delta()) {
            (Some(text), _) => (text, false),
            (None, Some(text)) => (text, true),
            (None, None) => {
                if event.event_type() == Some("content_block_start") {
                    // A new block starts: the next delta opens its own item.
                    if let Some(from) = self.live_from
                        && self.dropped + self.items.len() > from
                    {
                        self.live_block_closed = true;
                    }
                }
                return;
            }
        };
        let from = *self.live_from.get_or_insert(self.dropped + self.items.len());
        let appending = !self.live_block_closed && self.dropped + self.items.len() > from;
        self.live_block_closed = false;
        match self.items.last_mut() {
            Some(ChatItem::Text { text, .. }) if appending && !thinking => text.push_str(delta),
            Some(ChatItem::Thinking { text }) if appending && thinking => text.push_str(delta),
            _ if thinking => self.push(ChatItem::Thinking { text: delta.to_owned() }),
            _ => self.push(ChatItem::Text {
                text: delta.to_owned(),
                subagent: false,
            }),
        }
    }

    /// Takes away the items streamed so far, before the complete message that replaces them is added.
    fn end_partial(&mut self) {
        if let Some(from) = self.live_from.take() {
            self.live_block_closed = false;
            if let Some(local) = from.checked_sub(self.dropped)
                && local <= self.items.len()
            {
                self.items.truncate(local);
            }
        }
    }

    /// Folds one stream line into the conversation.
    pub fn apply_message(&mut self, run_id: RunId, message: &StreamMessage, raw: Arc<str>) {
        if let StreamMessage::StreamEvent(event) = message {
            // Token-by-token pieces are shown, not kept: the complete message follows them.
            self.apply_partial(event);
            return;
        }
        if self.raw.len() >= MAX_ITEMS {
            self.raw.pop_front();
        }
        self.raw.push_back(raw);
        match message {
            StreamMessage::System(SystemMessage::Init(init)) => {
                if let Some(id) = &init.session_id {
                    self.session_id = Some(id.clone());
                }
                self.mcp_servers = init.mcp_servers.clone();
                self.running_model = init.model.clone();
            }
            StreamMessage::System(SystemMessage::CompactBoundary(compact)) => {
                let before = compact
                    .compact_metadata
                    .as_ref()
                    .and_then(|m| m.get("pre_tokens"))
                    .and_then(Value::as_u64);
                let trigger = compact
                    .compact_metadata
                    .as_ref()
                    .and_then(|m| m.get("trigger"))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                self.push(ChatItem::Notice {
                    text: match (trigger, before) {
                        ("auto", Some(tokens)) => {
                            format!("The conversation was compacted here automatically ({tokens} tokens before).")
                        }
                        (_, Some(tokens)) => format!("The conversation was compacted here ({tokens} tokens before)."),
                        _ => "The conversation was compacted here.".to_owned(),
                    },
                    error: false,
                });
                self.context_used = 0;
            }
            StreamMessage::System(
                SystemMessage::TaskStarted(task)
                | SystemMessage::TaskProgress(task)
                | SystemMessage::TaskNotification(task),
            ) => self.apply_task(task),
            StreamMessage::ControlResponse(response) => {
                if let Some(offered) = response.initialize() {
                    self.offered = Some(Arc::new(offered));
                }
            }
            // The session's mode changed (a plan approved, a mode switched): the next turn starts in it.
            StreamMessage::System(SystemMessage::Status(status)) => {
                if let Some(mode) = status.permission_mode.as_deref().and_then(|m| m.parse().ok()) {
                    self.permission_mode = Some(mode);
                }
            }
            StreamMessage::RateLimitEvent(event) => {
                self.rate_limit = Some(event.rate_limit_info.clone());
                self.rate_limit_seen_ms = chrono::Utc::now().timestamp_millis();
                self.rate_limit_dismissed = false;
            }
            StreamMessage::System(SystemMessage::ApiRetry(retry)) => self.push(ChatItem::Notice {
                text: format!("The API failed; retrying (attempt {})", retry.attempt),
                error: false,
            }),
            StreamMessage::Assistant(assistant) => {
                let subagent = assistant.parent_tool_use_id.is_some();
                if !subagent {
                    self.end_partial();
                    if let Some(usage) = &assistant.message.usage {
                        let used = usage.input_tokens
                            + usage.cache_read_input_tokens
                            + usage.cache_creation_input_tokens
                            + usage.output_tokens;
                        if used > 0 {
                            self.context_used = used;
                        }
                    }
                }
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
                // A turn that stopped mid-answer keeps what streamed in.
                self.live_from = None;
                if let Some(window) = result.model_usage.values().filter_map(|m| m.context_window).max() {
                    self.context_window = Some(window);
                }
                self.push(ChatItem::Footer(footer(result)));
                if result.is_error {
                    self.error = Some(result.error_text());
                }
            }
            StreamMessage::ControlRequest(request) => {
                if let IncomingRequest::CanUseTool(ask) = &request.request {
                    self.permissions.push(PermissionPrompt::new(
                        run_id,
                        request.request_id.clone(),
                        (**ask).clone(),
                    ));
                }
            }
            _ => {}
        }
    }

    /// The turn ended.
    pub fn apply_finished(&mut self, outcome: &RunOutcome) {
        self.run = None;
        self.live_from = None;
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
    /// The latest usage-limit state any chat tab heard from the CLI, with when it came.
    pub fn latest_rate_limit(&self) -> Option<(&RateLimitInfo, i64)> {
        self.sessions
            .values()
            .filter_map(|s| s.rate_limit.as_ref().map(|r| (r, s.rate_limit_seen_ms)))
            .max_by_key(|(_, at)| *at)
    }

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

    /// A page of a resumed tab's transcript arrived: its lines join the conversation; false when no tab
    /// asked for it.
    pub fn earlier_page(&mut self, request_id: RequestId, page: &SessionPage) -> bool {
        let Some(session) = self.sessions.values_mut().find(|s| {
            s.earlier
                .as_ref()
                .is_some_and(|earlier| earlier.pending == Some(request_id))
        }) else {
            return false;
        };
        if session.earlier.as_mut().is_some_and(|earlier| earlier.advance(page)) {
            for line in &page.lines {
                session.apply_transcript_line(line);
            }
            if session.earlier.as_ref().is_some_and(|earlier| earlier.eof) {
                // The earlier turns' errors and notices are history, not this tab's state.
                session.error = None;
            }
        }
        true
    }

    /// A resumed tab's transcript could not be read: it says why and goes on without the earlier turns.
    pub fn earlier_failed(&mut self, request_id: RequestId, error: &str) -> bool {
        let Some(earlier) = self
            .sessions
            .values_mut()
            .filter_map(|s| s.earlier.as_mut())
            .find(|earlier| earlier.pending == Some(request_id))
        else {
            return false;
        };
        earlier.pending = None;
        earlier.error = Some(error.to_owned());
        true
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
mod tests;
