//! Running the real Claude Code CLI in a sandbox against the mock API, and reading its stream-json.
//!
//! The CLI is found by [`claude_bin`]. Tests call [`require_claude_bin`], which fails the test with install
//! instructions when it is missing, unless `ANYON_SKIP_CLAUDE_TESTS=1` asks to skip instead.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::mock_api::MockApi;

/// The CLI version these tests were written against.
pub const CLAUDE_VERSION: &str = "2.1.197";

/// The Claude CLI to test against: `$ANYON_TEST_CLAUDE_BIN`, else `node_modules/.bin/claude` under
/// `$ANYON_TEST_PEERS` (default: `peers/claude` in Cargo's test scratch folder). `None` when missing.
pub fn claude_bin() -> Option<PathBuf> {
    let path = match std::env::var_os("ANYON_TEST_CLAUDE_BIN") {
        Some(bin) => PathBuf::from(bin),
        None => peers_dir().join("node_modules/.bin/claude"),
    };
    path.is_file().then_some(path)
}

fn peers_dir() -> PathBuf {
    std::env::var_os("ANYON_TEST_PEERS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_TARGET_TMPDIR")).join("peers/claude"))
}

/// Installs the pinned CLI from npm into [`peers_dir`] once, so `cargo test` needs no set-up step.
/// A file lock keeps concurrent test processes from installing twice.
fn install_claude() -> Result<PathBuf, String> {
    static INSTALLED: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();
    INSTALLED
        .get_or_init(|| {
            let dir = peers_dir();
            std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            let lock = std::fs::File::create(dir.join(".install.lock")).map_err(|e| e.to_string())?;
            lock.lock().map_err(|e| e.to_string())?;
            if let Some(bin) = claude_bin() {
                return Ok(bin);
            }
            eprintln!(
                "installing @anthropic-ai/claude-code@{CLAUDE_VERSION} into {} (once)",
                dir.display()
            );
            let output = Command::new("npm")
                .args(["install", "--no-audit", "--no-fund", "--prefix"])
                .arg(&dir)
                .arg(format!("@anthropic-ai/claude-code@{CLAUDE_VERSION}"))
                .output()
                .map_err(|e| format!("cannot run npm ({e}); install Node.js and npm"))?;
            if !output.status.success() {
                return Err(format!(
                    "npm install failed: {}",
                    String::from_utf8_lossy(&output.stderr)
                ));
            }
            claude_bin().ok_or_else(|| "npm install succeeded but no claude binary appeared".to_string())
        })
        .clone()
}

/// The CLI for a test that needs it, installed on first use. Panics with the reason when it cannot be
/// had, or returns `None` (after saying so) when `ANYON_SKIP_CLAUDE_TESTS=1` outside CI; in CI a missing
/// CLI always fails the test.
pub fn require_claude_bin(test: &str) -> Option<PathBuf> {
    if std::env::var("ANYON_SKIP_CLAUDE_TESTS").is_ok_and(|value| value == "1") && claude_bin().is_none() {
        super::skip(test, "the Claude CLI is missing and ANYON_SKIP_CLAUDE_TESTS=1");
        return None;
    }
    match claude_bin().map(Ok).unwrap_or_else(install_claude) {
        Ok(bin) => Some(bin),
        Err(error) => panic!(
            "{test} needs the real Claude CLI: {error}.\n\
             Install it with `npm install --prefix {} @anthropic-ai/claude-code@{CLAUDE_VERSION}` (or point \
             ANYON_TEST_PEERS / ANYON_TEST_CLAUDE_BIN at it), or set ANYON_SKIP_CLAUDE_TESTS=1 to skip.",
            peers_dir().display(),
        ),
    }
}

/// Temporary HOME, CLAUDE_CONFIG_DIR and project folder for one CLI run; removed when dropped.
pub struct Sandbox {
    _root: tempfile::TempDir,
    pub home: PathBuf,
    pub config_dir: PathBuf,
    /// Canonical, because the CLI resolves symlinks in its cwd (and so in the paths it reports).
    pub project: PathBuf,
}

impl Sandbox {
    /// The environment that points a Claude process at `base_url` inside this sandbox.
    pub fn env(&self, base_url: &str) -> Vec<(std::ffi::OsString, std::ffi::OsString)> {
        [
            ("HOME", self.home.as_os_str().to_owned()),
            ("CLAUDE_CONFIG_DIR", self.config_dir.as_os_str().to_owned()),
            ("ANTHROPIC_BASE_URL", base_url.into()),
            ("ANTHROPIC_API_KEY", "sk-test".into()),
            ("CLAUDE_CODE_MAX_RETRIES", "0".into()),
            ("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1".into()),
        ]
        .into_iter()
        .map(|(key, value)| (key.into(), value))
        .collect()
    }

    /// Points `backend` at the CLI `bin` (as if chosen in Settings) running in this sandbox.
    pub fn wire(
        &self,
        runtime: &tokio::runtime::Runtime,
        backend: &anyon::backend::Backend,
        bin: &Path,
        api: &MockApi,
    ) {
        let save = anyon::domain::settings::requests::SaveSetting {
            setting: anyon::domain::settings::Setting::ClaudeBinaryPath(Some(bin.to_path_buf())),
        };
        runtime.block_on(backend.execute(save)).expect("save the binary path");
        backend.set_child_env(self.env(&api.base_url()));
        // Hooks Claude runs (checkpoints) call the real `anyon`, not the test binary.
        backend.set_self_exe(super::anyon_bin());
    }

    pub fn new() -> Self {
        let root = tempfile::Builder::new()
            .prefix("anyon-claude")
            .tempdir()
            .expect("sandbox temp dir");
        let home = root.path().join("home");
        let config_dir = root.path().join("config");
        let project = root.path().join("project");
        for dir in [&home, &config_dir, &project] {
            std::fs::create_dir_all(dir).expect("sandbox folder");
        }
        let project = project.canonicalize().expect("canonical project path");
        Self {
            _root: root,
            home,
            config_dir,
            project,
        }
    }

    /// Every `.jsonl` file under `<CLAUDE_CONFIG_DIR>/projects/`, recursively.
    pub fn transcripts(&self) -> Vec<PathBuf> {
        let mut found = Vec::new();
        let mut folders = vec![self.config_dir.join("projects")];
        while let Some(folder) = folders.pop() {
            let Ok(entries) = std::fs::read_dir(&folder) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    folders.push(path);
                } else if path.extension().is_some_and(|ext| ext == "jsonl") {
                    found.push(path);
                }
            }
        }
        found.sort();
        found
    }
}

/// A running CLI: stdin to write stream-json to, stdout parsed line by line on a reader thread.
pub struct ClaudeRun {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<Value>,
    stderr: Option<std::thread::JoinHandle<String>>,
    /// Every stdout line received so far (non-JSON lines are kept as JSON strings).
    pub seen: Vec<Value>,
}

impl ClaudeRun {
    /// Starts `claude -p --output-format stream-json --verbose --input-format stream-json [extra_args]` in the
    /// sandbox's project, with an environment holding only what the run needs.
    pub fn start(bin: &Path, api: &MockApi, sandbox: &Sandbox, extra_args: &[&str]) -> Self {
        let mut command = Command::new(bin);
        command
            .args([
                "-p",
                "--output-format",
                "stream-json",
                "--verbose",
                "--input-format",
                "stream-json",
            ])
            .args(extra_args)
            .current_dir(&sandbox.project)
            // A clean environment: the machine's own ANTHROPIC_* or CLAUDE_* settings must not leak in.
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &sandbox.home)
            .env("CLAUDE_CONFIG_DIR", &sandbox.config_dir)
            .env("ANTHROPIC_BASE_URL", api.base_url())
            .env("ANTHROPIC_API_KEY", "sk-test")
            .env("CLAUDE_CODE_MAX_RETRIES", "0")
            .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("spawn the Claude CLI");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut stderr = child.stderr.take().expect("piped stderr");
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let value = serde_json::from_str(&line).unwrap_or(Value::String(line));
                if sender.send(value).is_err() {
                    break;
                }
            }
        });
        // Read stderr concurrently: a full stderr pipe would block the CLI.
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        Self {
            stdin: child.stdin.take(),
            child,
            lines,
            stderr: Some(stderr),
            seen: Vec::new(),
        }
    }

    /// Writes one JSON line to the CLI's stdin.
    pub fn send(&mut self, value: &Value) {
        let stdin = self.stdin.as_mut().expect("stdin is still open");
        writeln!(stdin, "{value}").expect("write to the CLI's stdin");
        stdin.flush().expect("flush the CLI's stdin");
    }

    /// Sends a prompt as a stream-json user line.
    pub fn send_prompt(&mut self, text: &str) {
        self.send(&json!({"type": "user", "message": {"role": "user", "content": text}}));
    }

    /// Answers a control_request.
    pub fn respond(&mut self, request_id: &str, response: Value) {
        self.send(&json!({"type": "control_response",
            "response": {"subtype": "success", "request_id": request_id, "response": response}}));
    }

    /// Closing stdin tells the CLI no more prompts come: it exits after the current turn.
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Reads lines until one matches `check`; panics naming `what`, with everything seen, after `timeout`.
    pub fn wait_for_line(&mut self, what: &str, timeout: Duration, check: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if check(&line) {
                        return line;
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => self.fail(&format!("timed out after {timeout:?} on {what}")),
                Err(mpsc::RecvTimeoutError::Disconnected) => self.fail(&format!("stdout ended before {what}")),
            }
        }
    }

    /// Closes stdin, reads stdout to its end and waits for the exit; panics after `timeout`.
    pub fn finish(mut self, timeout: Duration) -> Finished {
        self.close_stdin();
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(mpsc::RecvTimeoutError::Timeout) => self.fail(&format!("the CLI still runs after {timeout:?}")),
            }
        }
        // stdout is closed: the process is exiting.
        let status = self.child.wait().expect("wait for the CLI");
        let stderr = self
            .stderr
            .take()
            .map(|thread| thread.join().unwrap_or_default())
            .unwrap_or_default();
        Finished {
            status,
            lines: std::mem::take(&mut self.seen),
            stderr,
        }
    }

    fn fail(&mut self, why: &str) -> ! {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let stderr = self
            .stderr
            .take()
            .map(|thread| thread.join().unwrap_or_default())
            .unwrap_or_default();
        panic!("{why}\nstdout so far:\n{}\nstderr:\n{stderr}", render(&self.seen));
    }
}

impl Drop for ClaudeRun {
    fn drop(&mut self) {
        // A test that failed midway must not leave a CLI running.
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A finished CLI run.
pub struct Finished {
    pub status: ExitStatus,
    pub lines: Vec<Value>,
    pub stderr: String,
}

impl Finished {
    /// The lines of `type` (and `subtype`, when given).
    pub fn of_type(&self, kind: &str, subtype: Option<&str>) -> Vec<&Value> {
        self.lines
            .iter()
            .filter(|line| line["type"] == kind && subtype.is_none_or(|subtype| line["subtype"] == subtype))
            .collect()
    }

    /// The single `result` line, which must be the last line.
    pub fn result(&self) -> &Value {
        let last = self
            .lines
            .last()
            .unwrap_or_else(|| panic!("no output at all; stderr:\n{}", self.stderr));
        assert_eq!(
            last["type"],
            "result",
            "the last line should be the result:\n{}",
            self.render()
        );
        last
    }

    /// The content blocks of `type` in assistant (or user) lines, with the line's `parent_tool_use_id`.
    pub fn blocks(&self, line_type: &str, block_type: &str) -> Vec<(Value, Value)> {
        self.of_type(line_type, None)
            .into_iter()
            .flat_map(|line| {
                let parent = line["parent_tool_use_id"].clone();
                line["message"]["content"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|block| block["type"] == block_type)
                    .map(move |block| (block.clone(), parent.clone()))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// All lines and stderr, for assertion messages.
    pub fn render(&self) -> String {
        format!(
            "{}\nstatus: {}\nstderr:\n{}",
            render(&self.lines),
            self.status,
            self.stderr
        )
    }
}

fn render(lines: &[Value]) -> String {
    lines
        .iter()
        .map(|line| {
            let text = line.to_string();
            // Init lines list every tool and command: cut them so a failure stays readable.
            if text.len() > 600 {
                format!("{}…", &text[..text.floor_char_boundary(600)])
            } else {
                text
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}
