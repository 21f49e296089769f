//! Running Claude: the command line for a turn, and the task that owns the child process.
//!
//! The prompt goes over stdin as a stream-json user message (no argv length limit, images allowed),
//! stdout is read line by line and parsed, stderr is drained concurrently (a full stderr pipe would
//! stall the child) keeping only its tail. Stdin stays open while the turn runs so permission answers
//! and `interrupt` can be written; it is closed after the `result` line so the CLI exits.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin};
use tokio::sync::mpsc;

use super::stream::{
    CanUseTool, IncomingRequest, InputBlock, OutgoingMessage, ParsedLine, StreamMessage, SystemMessage, parse_line,
};
use crate::backend::EventSink;
use crate::event::Event;
use crate::process::{ProcessRegistry, RunHandle, RunId, RunKind, RunStatus};

/// How much of stderr is kept for the error banner.
const STDERR_TAIL_BYTES: usize = 16 * 1024;
/// Inputs (permission answers, interrupts) that may wait for the owner task.
const INPUT_CAPACITY: usize = 32;

/// Which conversation a run belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "mode", content = "session_id", rename_all = "snake_case")]
pub enum SessionChoice {
    /// A new session.
    #[default]
    New,
    /// The most recent session of the project (`--continue`).
    Continue,
    /// A given session (`--resume ID`).
    Resume(String),
}

/// Everything that shapes one run of the CLI.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunOptions {
    pub project: PathBuf,
    /// The prompt's blocks (text, images).
    pub prompt: Vec<InputBlock>,
    /// Alias or full id; None for the CLI's default.
    pub model: Option<String>,
    /// `default`, `acceptEdits`, `plan`, ...; None for the CLI's default.
    pub permission_mode: Option<String>,
    pub session: SessionChoice,
    pub append_system_prompt: Option<String>,
    /// Replaces Claude's own system prompt (agents that ask for it).
    pub system_prompt: Option<String>,
    pub allowed_tools: Vec<String>,
    pub disallowed_tools: Vec<String>,
    pub max_turns: Option<u32>,
    /// Ask ANYON before tools that are not already allowed (`--permission-prompt-tool stdio`).
    pub permission_prompts: bool,
    /// Extra settings as JSON (`--settings`), e.g. an agent's hooks.
    pub settings: Option<String>,
}

impl RunOptions {
    /// A plain text prompt in `project`.
    pub fn text(project: impl Into<PathBuf>, prompt: impl Into<String>) -> Self {
        Self {
            project: project.into(),
            prompt: vec![InputBlock::text(prompt)],
            permission_prompts: true,
            ..Self::default()
        }
    }

    /// The CLI arguments for this run.
    pub fn args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = [
            "-p",
            "--output-format",
            "stream-json",
            "--verbose",
            "--input-format",
            "stream-json",
        ]
        .into_iter()
        .map(OsString::from)
        .collect();
        let pair = |args: &mut Vec<OsString>, flag: &str, value: &str| {
            args.push(flag.into());
            args.push(value.into());
        };
        if let Some(model) = self.model.as_deref().filter(|m| !m.trim().is_empty()) {
            pair(&mut args, "--model", model.trim());
        }
        if let Some(mode) = self.permission_mode.as_deref().filter(|m| !m.is_empty()) {
            pair(&mut args, "--permission-mode", mode);
        }
        match &self.session {
            SessionChoice::New => {}
            SessionChoice::Continue => args.push("--continue".into()),
            SessionChoice::Resume(id) => pair(&mut args, "--resume", id),
        }
        if let Some(prompt) = self.system_prompt.as_deref().filter(|p| !p.is_empty()) {
            pair(&mut args, "--system-prompt", prompt);
        }
        if let Some(prompt) = self.append_system_prompt.as_deref().filter(|p| !p.is_empty()) {
            pair(&mut args, "--append-system-prompt", prompt);
        }
        if let Some(turns) = self.max_turns {
            pair(&mut args, "--max-turns", &turns.to_string());
        }
        if self.permission_prompts {
            pair(&mut args, "--permission-prompt-tool", "stdio");
        }
        if let Some(settings) = &self.settings {
            pair(&mut args, "--settings", settings);
        }
        for (flag, tools) in [
            ("--allowedTools", &self.allowed_tools),
            ("--disallowedTools", &self.disallowed_tools),
        ] {
            if !tools.is_empty() {
                args.push(flag.into());
                args.extend(tools.iter().map(OsString::from));
            }
        }
        args
    }
}

/// The person's answer to a permission prompt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum PermissionAnswer {
    Allow,
    /// Allow this and the same kind of call for the rest of the session.
    AllowForSession,
    Deny {
        message: String,
    },
}

/// What the backend may tell a running turn.
#[derive(Debug)]
pub enum RunInput {
    Permission {
        request_id: String,
        answer: PermissionAnswer,
    },
    Interrupt,
}

/// The figures of a turn's `result` line.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct RunMetrics {
    pub is_error: bool,
    pub cost_usd: Option<f64>,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_creation_tokens: u64,
    pub cache_read_tokens: u64,
    pub duration_ms: Option<u64>,
    pub num_turns: Option<u64>,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunOutcome {
    pub run_id: RunId,
    pub session_id: Option<String>,
    /// The process's exit code; None when a signal ended it.
    pub exit_code: Option<i32>,
    /// The run was stopped on request.
    pub cancelled: bool,
    /// The last part of what the CLI wrote to stderr.
    pub stderr_tail: String,
    /// Lines of stdout that were not JSON objects.
    pub garbage_lines: u64,
    /// The `result` line's figures, when the turn got that far.
    pub metrics: Option<RunMetrics>,
    /// Why the run failed, in the CLI's words when it gave some (None for a success).
    pub error: Option<String>,
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("the project folder {0} does not exist")]
    NoProject(PathBuf),
    #[error("the prompt is empty")]
    EmptyPrompt,
    #[error("cannot start {bin}: {source}")]
    Spawn { bin: PathBuf, source: std::io::Error },
    #[error("cannot send the prompt to Claude: {0}")]
    Stdin(std::io::Error),
}

/// A started run.
pub struct StartedRun {
    pub run_id: RunId,
    pub pid: u32,
    pub input: mpsc::Sender<RunInput>,
    /// Resolves with the outcome when the process has ended.
    pub finished: tokio::sync::oneshot::Receiver<RunOutcome>,
}

/// Optional extras of a run.
#[derive(Debug, Default)]
pub struct RunExtras {
    /// Appends every stdout line, as written, to this file (an agent run's transcript).
    pub record: Option<PathBuf>,
}

/// Spawns `bin` for `options` in its own process group, registers it, sends the prompt and hands
/// the child to a task that streams its output as events until it exits.
pub async fn start(
    bin: &Path,
    options: RunOptions,
    kind: RunKind,
    env: &[(OsString, OsString)],
    registry: &ProcessRegistry,
    sink: EventSink,
    extras: RunExtras,
) -> Result<StartedRun, RunError> {
    if !options.project.is_dir() {
        return Err(RunError::NoProject(options.project));
    }
    let prompt_is_empty = options
        .prompt
        .iter()
        .all(|block| matches!(block, InputBlock::Text { text } if text.trim().is_empty()));
    if prompt_is_empty {
        return Err(RunError::EmptyPrompt);
    }
    let mut command = tokio::process::Command::new(bin);
    command
        .args(options.args())
        .current_dir(&options.project)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    #[cfg(unix)]
    command.process_group(0);
    #[cfg(windows)]
    command.creation_flags(0x0000_0200); // CREATE_NEW_PROCESS_GROUP
    let mut child = command.spawn().map_err(|source| RunError::Spawn {
        bin: bin.to_path_buf(),
        source,
    })?;
    let pid = child.id().unwrap_or_default();
    let run_id = registry.next_run_id();
    let handle = registry.register(run_id, kind, pid, options.project.clone());
    tracing::info!(run_id, pid, bin = %bin.display(), project = %options.project.display(), "claude started");
    let mut stdin = child.stdin.take();
    let prompt = OutgoingMessage::user_blocks(options.prompt.clone());
    if let Err(error) = write_message(&mut stdin, &prompt).await {
        let _ = child.start_kill();
        let _ = child.wait().await;
        handle.finish(RunStatus::Exited { code: None });
        return Err(RunError::Stdin(error));
    }
    let (input, inputs) = mpsc::channel(INPUT_CAPACITY);
    let (finished_tx, finished) = tokio::sync::oneshot::channel();
    let record = match extras.record {
        Some(path) => match open_record(&path).await {
            Ok(file) => Some(file),
            Err(error) => {
                tracing::warn!(%error, path = %path.display(), "cannot record the run's output");
                None
            }
        },
        None => None,
    };
    let owner = Owner {
        run_id,
        kind,
        sink,
        registry: registry.clone(),
        stdin,
        pending: HashMap::new(),
        session_id: None,
        garbage_lines: 0,
        next_request: 0,
        metrics: None,
        result_error: None,
        record,
        finished: Some(finished_tx),
    };
    tokio::spawn(owner.run(child, handle, inputs));
    Ok(StartedRun {
        run_id,
        pid,
        input,
        finished,
    })
}

/// The task that owns one child.
struct Owner {
    run_id: RunId,
    kind: RunKind,
    sink: EventSink,
    registry: ProcessRegistry,
    stdin: Option<ChildStdin>,
    /// Permission requests waiting for the person, by request id.
    pending: HashMap<String, Arc<CanUseTool>>,
    session_id: Option<String>,
    garbage_lines: u64,
    next_request: u64,
    metrics: Option<RunMetrics>,
    /// The CLI's message when its result said the turn failed.
    result_error: Option<String>,
    record: Option<tokio::io::BufWriter<tokio::fs::File>>,
    finished: Option<tokio::sync::oneshot::Sender<RunOutcome>>,
}

impl Owner {
    async fn run(mut self, mut child: Child, mut handle: RunHandle, mut inputs: mpsc::Receiver<RunInput>) {
        let stderr_tail = tokio::spawn(read_tail(child.stderr.take()));
        if let Some(stdout) = child.stdout.take() {
            let mut lines = BufReader::new(stdout);
            let mut buffer = Vec::new();
            loop {
                buffer.clear();
                tokio::select! {
                    read = lines.read_until(b'\n', &mut buffer) => match read {
                        Ok(0) => break,
                        Ok(_) => self.line(&buffer, &handle).await,
                        Err(error) => {
                            tracing::warn!(run_id = self.run_id, %error, "reading claude's output failed");
                            break;
                        }
                    },
                    Some(input) = inputs.recv() => self.input(input).await,
                    Some(()) = handle.stop_requested.recv() => self.interrupt().await,
                }
            }
        }
        // Output is done: nobody can answer a prompt any more.
        self.stdin = None;
        let status = child.wait().await;
        let stderr_tail = stderr_tail.await.unwrap_or_default();
        let cancelled = self.registry.is_cancelling(self.run_id);
        let exit_code = status.as_ref().ok().and_then(|s| s.code());
        if let Some(record) = self.record.as_mut()
            && let Err(error) = record.flush().await
        {
            tracing::warn!(run_id = self.run_id, %error, "cannot finish the run's record");
        }
        let error = match (cancelled, exit_code, self.result_error.take()) {
            (true, _, _) => None,
            (false, _, Some(message)) => Some(message),
            (false, Some(0), None) => None,
            (false, code, None) => {
                let status = code.map_or("a signal".to_owned(), |c| format!("status {c}"));
                Some(if stderr_tail.is_empty() {
                    format!("Claude exited with {status}")
                } else {
                    format!("Claude exited with {status}: {stderr_tail}")
                })
            }
        };
        let outcome = RunOutcome {
            run_id: self.run_id,
            session_id: self.session_id.clone(),
            exit_code,
            cancelled,
            stderr_tail,
            garbage_lines: self.garbage_lines,
            metrics: self.metrics.take(),
            error,
        };
        tracing::info!(run_id = self.run_id, ?exit_code, cancelled, "claude exited");
        handle.finish(if cancelled {
            RunStatus::Cancelled
        } else {
            RunStatus::Exited { code: exit_code }
        });
        if let Some(finished) = self.finished.take() {
            let _ = finished.send(outcome.clone());
        }
        self.sink
            .send(Event::RunFinished {
                kind: self.kind,
                outcome,
            })
            .await;
    }

    async fn line(&mut self, bytes: &[u8], handle: &RunHandle) {
        if let Some(record) = self.record.as_mut()
            && let Err(error) = record.write_all(bytes).await
        {
            tracing::warn!(run_id = self.run_id, %error, "stopped recording the run's output");
            self.record = None;
        }
        let text = String::from_utf8_lossy(bytes);
        let message = match parse_line(&text) {
            ParsedLine::Message(message) => message,
            ParsedLine::Blank => return,
            ParsedLine::Garbage(garbage) => {
                self.garbage_lines += 1;
                tracing::debug!(run_id = self.run_id, reason = %garbage.reason, "skipped a line that is not JSON");
                return;
            }
        };
        if let StreamMessage::System(SystemMessage::Init(init)) = &message
            && let Some(session_id) = &init.session_id
        {
            self.session_id = Some(session_id.clone());
            handle.set_session_id(session_id);
        }
        match &message {
            StreamMessage::ControlRequest(request) => match &request.request {
                IncomingRequest::CanUseTool(ask) => {
                    self.pending
                        .insert(request.request_id.clone(), Arc::new((**ask).clone()));
                }
                IncomingRequest::Unknown(_) => {
                    // Unanswered, the CLI would wait forever.
                    let answer = OutgoingMessage::error_response(&request.request_id, "not supported by ANYON");
                    self.write(&answer).await;
                }
            },
            // The turn is over: closing stdin lets the CLI exit.
            StreamMessage::Result(result) => {
                self.stdin = None;
                let usage = result.usage.clone().unwrap_or_default();
                self.metrics = Some(RunMetrics {
                    is_error: result.is_error,
                    cost_usd: result.total_cost_usd,
                    input_tokens: usage.input_tokens,
                    output_tokens: usage.output_tokens,
                    cache_creation_tokens: usage.cache_creation_input_tokens,
                    cache_read_tokens: usage.cache_read_input_tokens,
                    duration_ms: result.duration_ms,
                    num_turns: result.num_turns,
                });
                self.result_error = result.is_error.then(|| result.error_text());
            }
            _ => {}
        }
        let (run_id, session_id, message) = (self.run_id, self.session_id.clone(), Arc::new(message));
        let raw: Arc<str> = Arc::from(text.trim_end());
        let event = match self.kind {
            RunKind::Chat => Event::ClaudeOutput {
                run_id,
                session_id,
                message,
                raw,
            },
            RunKind::Agent => Event::AgentOutput {
                run_id,
                session_id,
                message,
                raw,
            },
        };
        self.sink.send(event).await;
    }

    async fn input(&mut self, input: RunInput) {
        match input {
            RunInput::Permission { request_id, answer } => {
                let Some(ask) = self.pending.remove(&request_id) else {
                    tracing::warn!(
                        run_id = self.run_id,
                        request_id,
                        "answer to a permission request nobody asked"
                    );
                    return;
                };
                let message = match answer {
                    PermissionAnswer::Allow => OutgoingMessage::allow_once(&request_id, &ask),
                    PermissionAnswer::AllowForSession => OutgoingMessage::allow_for_session(&request_id, &ask),
                    PermissionAnswer::Deny { message } => OutgoingMessage::deny(&request_id, message),
                };
                self.write(&message).await;
            }
            RunInput::Interrupt => self.interrupt().await,
        }
    }

    async fn interrupt(&mut self) {
        self.next_request += 1;
        let message = OutgoingMessage::interrupt(format!("anyon-interrupt-{}", self.next_request));
        self.write(&message).await;
    }

    async fn write(&mut self, message: &OutgoingMessage) {
        if let Err(error) = write_message(&mut self.stdin, message).await {
            tracing::warn!(run_id = self.run_id, %error, "cannot write to claude's stdin");
            self.stdin = None;
        }
    }
}

/// Opens (creating folders) the file a run's output is appended to.
async fn open_record(path: &Path) -> std::io::Result<tokio::io::BufWriter<tokio::fs::File>> {
    if let Some(parent) = path.parent() {
        tokio::fs::create_dir_all(parent).await?;
    }
    let file = tokio::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .await?;
    Ok(tokio::io::BufWriter::new(file))
}

async fn write_message(stdin: &mut Option<ChildStdin>, message: &OutgoingMessage) -> std::io::Result<()> {
    let Some(pipe) = stdin.as_mut() else {
        return Err(std::io::Error::new(std::io::ErrorKind::BrokenPipe, "stdin is closed"));
    };
    let line = message.to_line().map_err(std::io::Error::other)?;
    pipe.write_all(line.as_bytes()).await?;
    pipe.flush().await
}

/// Reads a pipe to its end, keeping the last [`STDERR_TAIL_BYTES`].
async fn read_tail(pipe: Option<tokio::process::ChildStderr>) -> String {
    let Some(mut pipe) = pipe else { return String::new() };
    let mut tail: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 8192];
    loop {
        match pipe.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                tail.extend_from_slice(&chunk[..n]);
                if tail.len() > STDERR_TAIL_BYTES * 2 {
                    tail.drain(..tail.len() - STDERR_TAIL_BYTES);
                }
            }
        }
    }
    if tail.len() > STDERR_TAIL_BYTES {
        tail.drain(..tail.len() - STDERR_TAIL_BYTES);
    }
    String::from_utf8_lossy(&tail).trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: Vec<OsString>) -> Vec<String> {
        args.into_iter().map(|a| a.to_string_lossy().into_owned()).collect()
    }

    #[test]
    fn arguments_follow_the_options() {
        let plain = strings(
            RunOptions {
                permission_prompts: false,
                ..RunOptions::text("/p", "hi")
            }
            .args(),
        );
        assert_eq!(
            plain,
            [
                "-p",
                "--output-format",
                "stream-json",
                "--verbose",
                "--input-format",
                "stream-json"
            ]
        );
        let full = RunOptions {
            model: Some(" opus ".into()),
            permission_mode: Some("plan".into()),
            session: SessionChoice::Resume("abc".into()),
            append_system_prompt: Some("Be brief.".into()),
            allowed_tools: vec!["Read".into(), "Bash(git:*)".into()],
            disallowed_tools: vec!["WebFetch".into()],
            max_turns: Some(3),
            ..RunOptions::text("/p", "hi")
        };
        let args = strings(full.args());
        let joined = args.join(" ");
        for expected in [
            "--model opus",
            "--permission-mode plan",
            "--resume abc",
            "--append-system-prompt Be brief.",
            "--max-turns 3",
            "--permission-prompt-tool stdio",
            "--allowedTools Read Bash(git:*)",
            "--disallowedTools WebFetch",
        ] {
            assert!(joined.contains(expected), "{expected} missing from {joined}");
        }
        assert!(!joined.contains("dangerously"), "never relies on skipping permissions");
        let continued = strings(
            RunOptions {
                session: SessionChoice::Continue,
                ..RunOptions::text("/p", "x")
            }
            .args(),
        );
        assert!(continued.contains(&"--continue".to_string()));
    }
}
