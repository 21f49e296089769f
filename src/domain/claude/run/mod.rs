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

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

mod owner;

use owner::{Owner, open_record, write_message};

use super::permission::PermissionMode;
use super::stream::{InputBlock, OutgoingMessage, StreamMessage};
use crate::domain::process::{ProcessRegistry, RunId, RunKind, RunStatus};
use std::sync::Arc;

/// How much of stderr is kept for the error banner.
const STDERR_TAIL_BYTES: usize = 16 * 1024;
/// The id of the `initialize` request a run sends first (its answer carries the same id).
pub const INITIALIZE_REQUEST_ID: &str = "anyon-initialize";
/// Inputs (permission answers, interrupts) that may wait for the owner task.
const INPUT_CAPACITY: usize = 32;

/// Which conversation a run belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "mode", content = "session_id", rename_all = "snake_case")]
pub enum SessionChoice {
    /// A new session.
    #[default]
    New,
    /// A new session with this id (`--session-id`, a UUID), so ANYON knows it before the CLI starts.
    NewWithId(String),
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
    /// None for the CLI's default.
    pub permission_mode: Option<PermissionMode>,
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
    /// With `Resume`: continue the conversation as a new session (`--fork-session`).
    pub fork_session: bool,
    /// More folders the tools may work in (`--add-dir`).
    pub add_dirs: Vec<PathBuf>,
    /// The turn stops once it has cost this much (`--max-budget-usd`); ignored unless finite and positive.
    pub max_budget_usd: Option<f64>,
    /// The model used when the chosen one is overloaded (`--fallback-model`).
    pub fallback_model: Option<String>,
    /// Stream text and thinking token by token (`--include-partial-messages`).
    pub partial_messages: bool,
    /// Ask the CLI what it offers (`initialize`: models, slash commands, output styles) before the prompt;
    /// the answer comes back as a `control_response` line.
    pub initialize: bool,
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
        if let Some(mode) = self.permission_mode {
            pair(&mut args, "--permission-mode", mode.as_str());
        }
        match &self.session {
            SessionChoice::New => {}
            SessionChoice::NewWithId(id) => pair(&mut args, "--session-id", id),
            SessionChoice::Continue => args.push("--continue".into()),
            SessionChoice::Resume(id) => {
                pair(&mut args, "--resume", id);
                if self.fork_session {
                    args.push("--fork-session".into());
                }
            }
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
        if let Some(model) = self.fallback_model.as_deref().filter(|m| !m.trim().is_empty()) {
            pair(&mut args, "--fallback-model", model.trim());
        }
        if let Some(budget) = self.max_budget_usd.filter(|b| b.is_finite() && *b > 0.0) {
            pair(&mut args, "--max-budget-usd", &budget.to_string());
        }
        if self.partial_messages {
            args.push("--include-partial-messages".into());
        }
        // Joined to the flag (`--add-dir=DIR`): a folder named like a flag stays a folder, and the
        // variadic flag takes nothing after it.
        for dir in &self.add_dirs {
            let mut arg = OsString::from("--add-dir=");
            arg.push(dir);
            args.push(arg);
        }
        // One `--flag=RULE` per rule: joined to its flag, no rule can be read as a flag of its own (a rule
        // `--dangerously-skip-permissions` stays a rule), and the variadic flag swallows nothing after it.
        for (flag, tools) in [
            ("--allowedTools", &self.allowed_tools),
            ("--disallowedTools", &self.disallowed_tools),
        ] {
            for tool in tools {
                let mut arg = OsString::from(flag);
                arg.push("=");
                arg.push(tool);
                args.push(arg);
            }
        }
        args
    }
}

/// A random version-4 UUID, as `--session-id` requires, from the operating system's random generator.
pub fn new_session_id() -> Result<String, RunError> {
    let mut bytes = crate::util::hex::random_bytes::<16>().map_err(RunError::SessionId)?;
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = crate::util::hex::encode(&bytes);
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    ))
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
    /// Approve Claude's plan (`ExitPlanMode`): it leaves plan mode and goes on in `mode`.
    ApprovePlan {
        mode: PermissionMode,
    },
    /// Run the tool with `input` in place of what it asked with (an `AskUserQuestion` with its answers).
    AllowWithInput {
        input: serde_json::Value,
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
    #[error("cannot make a session id: {0}")]
    SessionId(std::io::Error),
}

/// What a run reports as it goes.
#[derive(Debug, Clone)]
pub enum RunEvent {
    /// One line of Claude's stream-json output; the session id is known from the run's `init` line on.
    Output {
        run_id: RunId,
        kind: RunKind,
        session_id: Option<String>,
        message: Arc<StreamMessage>,
        /// The line as the CLI wrote it.
        raw: Arc<str>,
    },
    /// The process ended.
    Finished { kind: RunKind, outcome: RunOutcome },
}

type SendFuture = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// Where a run's events go. Sending is awaited, so a slow reader slows the run down instead of
/// letting memory grow.
#[derive(Clone)]
pub struct RunEvents(Arc<dyn Fn(RunEvent) -> SendFuture + Send + Sync>);

impl RunEvents {
    pub fn new<F, Fut>(send: F) -> Self
    where
        F: Fn(RunEvent) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        Self(Arc::new(move |event| Box::pin(send(event))))
    }

    pub async fn send(&self, event: RunEvent) {
        (self.0)(event).await
    }
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
    events: RunEvents,
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
    let mut written = Ok(());
    if options.initialize {
        written = write_message(&mut stdin, &OutgoingMessage::initialize(INITIALIZE_REQUEST_ID)).await;
    }
    if written.is_ok() {
        written = write_message(&mut stdin, &OutgoingMessage::user_blocks(options.prompt.clone())).await;
    }
    if let Err(error) = written {
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
        events,
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn strings(args: Vec<OsString>) -> Vec<String> {
        args.into_iter().map(|a| a.to_string_lossy().into_owned()).collect()
    }

    #[test]
    fn no_tool_rule_is_ever_an_argument_of_its_own() {
        let rules = ["--dangerously-skip-permissions", "-d", "Read", "Bash(rm -rf:*)"];
        let options = RunOptions {
            allowed_tools: rules.iter().map(|r| r.to_string()).collect(),
            disallowed_tools: rules.iter().map(|r| r.to_string()).collect(),
            ..RunOptions::text("/p", "hi")
        };
        let args = strings(options.args());
        for rule in rules {
            assert!(
                !args.iter().any(|a| a == rule),
                "{rule} is a separate argument: {args:?}"
            );
            for flag in ["--allowedTools", "--disallowedTools"] {
                assert!(
                    args.contains(&format!("{flag}={rule}")),
                    "{flag}={rule} missing: {args:?}"
                );
            }
        }
        assert!(!args.iter().any(|a| a == "--allowedTools" || a == "--disallowedTools"));
    }

    #[test]
    fn extra_folders_budget_fallback_and_live_text_reach_the_command_line() {
        let options = RunOptions {
            add_dirs: vec![PathBuf::from("/srv/shared docs"), PathBuf::from("--not-a-flag")],
            max_budget_usd: Some(0.5),
            fallback_model: Some(" sonnet ".into()),
            partial_messages: true,
            ..RunOptions::text("/p", "hi")
        };
        let args = strings(options.args());
        assert!(args.contains(&"--add-dir=/srv/shared docs".to_owned()), "{args:?}");
        assert!(
            args.contains(&"--add-dir=--not-a-flag".to_owned()),
            "a folder stays a folder: {args:?}"
        );
        let after = |flag: &str| args.iter().position(|a| a == flag).map(|i| args[i + 1].clone());
        assert_eq!(after("--max-budget-usd").as_deref(), Some("0.5"));
        assert_eq!(after("--fallback-model").as_deref(), Some("sonnet"));
        assert!(args.contains(&"--include-partial-messages".to_owned()));

        for budget in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let args = strings(
                RunOptions {
                    max_budget_usd: Some(budget),
                    ..RunOptions::text("/p", "hi")
                }
                .args(),
            );
            assert!(!args.iter().any(|a| a == "--max-budget-usd"), "{budget}: {args:?}");
        }
        let plain = strings(RunOptions::text("/p", "hi").args());
        assert!(
            !plain
                .iter()
                .any(|a| a.starts_with("--add-dir") || a == "--fallback-model")
        );
        assert!(!plain.iter().any(|a| a == "--include-partial-messages"));
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
            permission_mode: Some(PermissionMode::Plan),
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
            "--allowedTools=Read --allowedTools=Bash(git:*)",
            "--disallowedTools=WebFetch",
        ] {
            assert!(joined.contains(expected), "{expected} missing from {joined}");
        }
        assert!(!joined.contains("dangerously"), "never relies on skipping permissions");
        let id = new_session_id().unwrap();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4", "version 4: {id}");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "RFC 4122 variant: {id}");
        assert_ne!(id, new_session_id().unwrap());
        let fixed = strings(
            RunOptions {
                session: SessionChoice::NewWithId(id.clone()),
                ..RunOptions::text("/p", "x")
            }
            .args(),
        );
        assert!(fixed.join(" ").contains(&format!("--session-id {id}")));
        let forked = strings(
            RunOptions {
                session: SessionChoice::Resume("abc".into()),
                fork_session: true,
                ..RunOptions::text("/p", "x")
            }
            .args(),
        );
        assert!(forked.join(" ").contains("--resume abc --fork-session"));
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
