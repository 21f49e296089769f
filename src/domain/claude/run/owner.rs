//! The task that owns one running child: reads its stdout line by line into events, writes
//! permission answers and interrupts to its stdin, drains stderr, and reports how it ended.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin};
use tokio::sync::mpsc;

use super::{PermissionAnswer, RunEvent, RunEvents, RunInput, RunMetrics, RunOutcome, STDERR_TAIL_BYTES};
use crate::domain::claude::stream::{
    CanUseTool, IncomingRequest, OutgoingMessage, ParsedLine, PermissionDecision, StreamMessage, SystemMessage,
    parse_line,
};
use crate::domain::process::{ProcessRegistry, RunHandle, RunId, RunKind, RunStatus};
use crate::util::lines::{CappedLines, MAX_JSON_LINE, Piece};

/// The task that owns one child.
pub(super) struct Owner {
    pub(super) run_id: RunId,
    pub(super) kind: RunKind,
    pub(super) events: RunEvents,
    pub(super) registry: ProcessRegistry,
    pub(super) stdin: Option<ChildStdin>,
    /// Permission requests waiting for the person, by request id.
    pub(super) pending: HashMap<String, Arc<CanUseTool>>,
    pub(super) session_id: Option<String>,
    pub(super) garbage_lines: u64,
    pub(super) next_request: u64,
    pub(super) metrics: Option<RunMetrics>,
    /// The CLI's message when its result said the turn failed.
    pub(super) result_error: Option<String>,
    pub(super) record: Option<tokio::io::BufWriter<tokio::fs::File>>,
    pub(super) finished: Option<tokio::sync::oneshot::Sender<RunOutcome>>,
}

impl Owner {
    pub(super) async fn run(mut self, mut child: Child, mut handle: RunHandle, mut inputs: mpsc::Receiver<RunInput>) {
        let stderr_tail = tokio::spawn(read_tail(child.stderr.take()));
        if let Some(stdout) = child.stdout.take() {
            let mut stdout = BufReader::new(stdout);
            // Bounded (a line past the cap is skipped and counted) and cancel-safe: an input or a stop
            // arriving mid-line leaves the part read so far in place for the next turn of the loop.
            let mut lines = CappedLines::new(MAX_JSON_LINE);
            loop {
                tokio::select! {
                    read = lines.next_async(&mut stdout) => match read {
                        Ok(None) => break,
                        Ok(Some(Piece::Line { bytes, .. })) => self.line(bytes, &handle).await,
                        Ok(Some(Piece::TooLong { bytes, .. })) => {
                            self.garbage_lines += 1;
                            tracing::warn!(run_id = self.run_id, bytes, "skipped a line of claude's output longer than any message");
                        }
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
        self.events
            .send(RunEvent::Finished {
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
        let event = RunEvent::Output {
            run_id: self.run_id,
            kind: self.kind,
            session_id: self.session_id.clone(),
            message: Arc::new(message),
            raw: Arc::from(text.trim_end()),
        };
        self.events.send(event).await;
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
                    PermissionAnswer::ApprovePlan { mode } => OutgoingMessage::approve_plan(&request_id, &ask, mode),
                    PermissionAnswer::AllowWithInput { input } => OutgoingMessage::decision(
                        &request_id,
                        PermissionDecision::Allow {
                            updated_input: input,
                            updated_permissions: Vec::new(),
                        },
                    ),
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
pub(super) async fn open_record(path: &Path) -> std::io::Result<tokio::io::BufWriter<tokio::fs::File>> {
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

pub(super) async fn write_message(stdin: &mut Option<ChildStdin>, message: &OutgoingMessage) -> std::io::Result<()> {
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
