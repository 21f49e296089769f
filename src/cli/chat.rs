//! `anyon chat`: one Claude turn from the command line, streamed as it happens.
//!
//! With `--json`, every line Claude wrote is printed as it came, between ANYON's own
//! `{"type":"anyon_start",...}` and `{"type":"anyon_exit",...}` lines; the exit status is the run's.
//! Ctrl+C stops the run the same way the Stop button does.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use super::{print_error, write_json_line};
use crate::backend::command::ClaudeRunRequest;
use crate::backend::event::Event;
use crate::backend::{Backend, EventReceiver};
use crate::domain::claude::permission::PermissionMode;
use crate::domain::claude::requests::{CancelClaudeExecution, ContinueClaudeCode, ExecuteClaudeCode, RunStart};
use crate::domain::claude::stream::{ContentBlock, StreamMessage, SystemMessage};

#[derive(Debug, Args)]
pub struct ChatArgs {
    /// The project folder Claude works in.
    #[arg(long)]
    pub project: PathBuf,
    /// The prompt.
    #[arg(long)]
    pub prompt: String,
    /// Model alias (opus, sonnet, haiku) or full id.
    #[arg(long)]
    pub model: Option<String>,
    /// Continue this session.
    #[arg(long, conflicts_with = "continue")]
    pub resume: Option<String>,
    /// Continue the project's most recent session.
    #[arg(long = "continue")]
    pub r#continue: bool,
    /// default, acceptEdits, plan, auto, dontAsk or bypassPermissions.
    #[arg(long)]
    pub permission_mode: Option<PermissionMode>,
    /// Text added to Claude's system prompt.
    #[arg(long)]
    pub append_system_prompt: Option<String>,
    /// Print JSON lines.
    #[arg(long)]
    pub json: bool,
}

/// Runs the turn and returns its exit status.
pub fn run(backend: &Backend, mut events: EventReceiver, args: ChatArgs) -> i32 {
    let project = std::fs::canonicalize(&args.project).unwrap_or(args.project.clone());
    let request = ClaudeRunRequest {
        project_path: project,
        prompt: args.prompt.clone(),
        model: args.model.clone().unwrap_or_default(),
        permission_mode: args.permission_mode,
        append_system_prompt: args.append_system_prompt.clone().unwrap_or_default(),
        resume_session: args.resume.clone(),
        ..ClaudeRunRequest::default()
    };
    let runtime = backend.runtime().clone();
    let started = if args.r#continue {
        runtime.block_on(backend.call(ContinueClaudeCode { run: request }))
    } else {
        runtime.block_on(backend.call(ExecuteClaudeCode { run: request }))
    };
    let run_id = match started {
        Ok(RunStart { run_id, pid }) => {
            if args.json {
                print_line(&json!({"type": "anyon_start", "run_id": run_id, "pid": pid}));
            }
            run_id
        }
        Err(error) => {
            print_error(&error, args.json);
            return 1;
        }
    };
    // Ctrl+C stops the run politely first, like the Stop button.
    let canceller = backend.clone();
    runtime.spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            let _ = canceller.execute(CancelClaudeExecution { run_id }).await;
        }
    });
    loop {
        let Some(event) = runtime.block_on(events.recv()) else {
            return 1;
        };
        match event {
            Event::ClaudeOutput {
                run_id: id,
                message,
                raw,
                ..
            } if id == run_id => {
                if args.json {
                    print_raw(&raw);
                } else {
                    print_human(&message);
                }
            }
            Event::RunFinished { outcome, .. } if outcome.run_id == run_id => {
                if args.json {
                    print_line(&json!({
                        "type": "anyon_exit",
                        "run_id": outcome.run_id,
                        "session_id": outcome.session_id,
                        "exit_code": outcome.exit_code,
                        "cancelled": outcome.cancelled,
                        "stderr_tail": outcome.stderr_tail,
                        "garbage_lines": outcome.garbage_lines,
                    }));
                } else if !outcome.stderr_tail.is_empty() && outcome.exit_code != Some(0) {
                    eprintln!("{}", outcome.stderr_tail);
                }
                return match (outcome.cancelled, outcome.exit_code) {
                    (true, _) => 130,
                    (false, Some(code)) => code,
                    (false, None) => 1,
                };
            }
            _ => {}
        }
    }
}

fn print_line(value: &serde_json::Value) {
    let stdout = std::io::stdout();
    let _ = write_json_line(&mut stdout.lock(), value);
}

fn print_raw(raw: &str) {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let _ = writeln!(out, "{raw}");
    let _ = out.flush();
}

/// A readable rendering: the text as it comes, tools as one line each, the result's figures.
fn print_human(message: &StreamMessage) {
    match message {
        StreamMessage::System(SystemMessage::Init(init)) => {
            eprintln!(
                "session {} · {}",
                init.session_id.as_deref().unwrap_or("?"),
                init.model.as_deref().unwrap_or("default model")
            );
        }
        StreamMessage::Assistant(assistant) => {
            for block in &assistant.message.content {
                match block {
                    ContentBlock::Text { text, .. } => println!("{text}"),
                    ContentBlock::ToolUse { name, input, .. } => {
                        let input = serde_json::to_string(input).unwrap_or_default();
                        let short: String = input.chars().take(160).collect();
                        println!("→ {name} {short}");
                    }
                    _ => {}
                }
            }
        }
        StreamMessage::Result(result) => {
            let cost = result
                .total_cost_usd
                .map(|c| format!("${c:.4}"))
                .unwrap_or_else(|| "cost unknown".into());
            let duration = result
                .duration_ms
                .map(|ms| format!("{:.1} s", ms as f64 / 1000.0))
                .unwrap_or_default();
            eprintln!("— {cost} · {duration} · {} turn(s)", result.num_turns.unwrap_or(0));
        }
        _ => {}
    }
}
