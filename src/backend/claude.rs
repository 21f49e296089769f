//! The chat commands: finding `claude`, starting runs, answering their prompts, stopping them.

use std::path::PathBuf;
use std::sync::Arc;

use super::{Backend, BackendError};
use crate::domain::checkpoint::Trigger;
use crate::domain::checkpoint::requests::CheckpointCreate;
use crate::domain::claude::discovery::{Discovery, DiscoveryInputs, NotFound};
use crate::domain::claude::requests::{
    CancelClaudeExecution, ClaudeFindInstallations, ClaudeRespondPermission, ClaudeRunRequest, ClaudeUseBinary,
    ContinueClaudeCode, ExecuteClaudeCode, KillProcess, ListProcesses, Reply, Request, RunStart,
};
use crate::domain::claude::run::{self, RunInput, RunOptions, SessionChoice};
use crate::domain::claude::stream::InputBlock;
use crate::domain::process::RunKind;
use crate::domain::settings::{self, Setting};
use crate::util::request::Ask;
use crate::util::sync::LockExt;

impl Backend {
    pub(super) async fn claude(&self, request: Request) -> Result<Reply, BackendError> {
        match request {
            Request::ExecuteClaudeCode(ExecuteClaudeCode { run: request }) => {
                let session = match &request.resume_session {
                    Some(id) => SessionChoice::Resume(id.clone()),
                    None => SessionChoice::NewWithId(run::new_session_id()?),
                };
                Ok(ExecuteClaudeCode::wrap(self.start_chat(request, session).await?))
            }
            Request::ContinueClaudeCode(ContinueClaudeCode { run: request }) => {
                let session = match &request.resume_session {
                    Some(id) => SessionChoice::Resume(id.clone()),
                    None => SessionChoice::Continue,
                };
                Ok(ContinueClaudeCode::wrap(self.start_chat(request, session).await?))
            }
            Request::CancelClaudeExecution(CancelClaudeExecution { run_id }) => {
                if self.inner.processes.cancel(run_id).await {
                    Ok(CancelClaudeExecution::wrap(()))
                } else {
                    Err(BackendError::NoSuchRun(run_id))
                }
            }
            Request::ClaudeRespondPermission(ClaudeRespondPermission {
                run_id,
                request_id,
                answer,
            }) => {
                let input = self.run_input(run_id)?;
                input
                    .send(RunInput::Permission { request_id, answer })
                    .await
                    .map_err(|_| BackendError::NoSuchRun(run_id))?;
                Ok(ClaudeRespondPermission::wrap(()))
            }
            Request::ListProcesses(ListProcesses) => Ok(ListProcesses::wrap(self.inner.processes.list())),
            Request::KillProcess(KillProcess { run_id }) => {
                if self.inner.processes.cancel(run_id).await {
                    Ok(KillProcess::wrap(()))
                } else {
                    Err(BackendError::NoSuchRun(run_id))
                }
            }
            Request::ClaudeUseBinary(ClaudeUseBinary { path }) => {
                let path = Some(PathBuf::from(path.trim())).filter(|p| !p.as_os_str().is_empty());
                self.blocking(move |db| Ok(settings::save(&db.writer(), &Setting::ClaudeBinaryPath(path))?))
                    .await?;
                self.inner.claude_binary.invalidate();
                Ok(ClaudeUseBinary::wrap(self.discovery().await?))
            }
            Request::ClaudeFindInstallations(ClaudeFindInstallations { refresh }) => {
                if refresh {
                    self.inner.claude_binary.invalidate();
                }
                Ok(ClaudeFindInstallations::wrap(self.discovery().await?))
            }
        }
    }

    fn run_input(&self, run_id: u64) -> Result<tokio::sync::mpsc::Sender<RunInput>, BackendError> {
        let inputs = self.inner.run_inputs.lock_or_recover();
        inputs.get(&run_id).cloned().ok_or(BackendError::NoSuchRun(run_id))
    }

    /// The Claude installations, discovered once and cached.
    async fn discovery(&self) -> Result<Arc<Discovery>, BackendError> {
        let saved = self.saved_claude_path().await;
        let cache = self.clone();
        tokio::task::spawn_blocking(move || {
            cache
                .inner
                .claude_binary
                .get_or_discover(|| DiscoveryInputs::from_env(saved))
        })
        .await
        .map_err(BackendError::Task)
    }

    async fn saved_claude_path(&self) -> Option<PathBuf> {
        self.blocking(|db| Ok(settings::load(&db.writer())?.claude_binary_path))
            .await
            .ok()
            .flatten()
    }

    /// The binary to run, or a message that says where ANYON looked.
    pub async fn claude_binary(&self) -> Result<PathBuf, BackendError> {
        let discovery = self.discovery().await?;
        match discovery.chosen() {
            Some(installation) => Ok(installation.path.clone()),
            None => Err(BackendError::ClaudeNotFound(NotFound(discovery))),
        }
    }

    async fn start_chat(&self, request: ClaudeRunRequest, session: SessionChoice) -> Result<RunStart, BackendError> {
        let bin = self.claude_binary().await?;
        // A fork gets its id from the CLI, so its first checkpoint waits for the hook's.
        let session_id = match &session {
            SessionChoice::Resume(_) if request.fork_session => None,
            SessionChoice::NewWithId(id) | SessionChoice::Resume(id) => Some(id.clone()),
            SessionChoice::New | SessionChoice::Continue => None,
        };
        let mut settings = None;
        if request.project_path.is_dir() && self.auto_checkpoints_on(&request.project_path).await {
            if let Some(id) = session_id {
                self.auto_checkpoint(request.project_path.clone(), id, Trigger::BeforePrompt)
                    .await;
            }
            settings = self.checkpoint_hook_settings();
        }
        let settings = with_output_style(settings, request.output_style.trim());
        let mut prompt = vec![InputBlock::text(request.prompt.clone())];
        prompt.extend(
            request
                .images
                .iter()
                .map(|(media_type, bytes)| InputBlock::image(media_type.clone(), bytes)),
        );
        let options = RunOptions {
            project: request.project_path.clone(),
            prompt,
            model: Some(request.model.clone()).filter(|m| !m.trim().is_empty()),
            permission_mode: request.permission_mode,
            session,
            append_system_prompt: Some(request.append_system_prompt.clone()).filter(|p| !p.trim().is_empty()),
            permission_prompts: true,
            settings,
            fork_session: request.fork_session,
            add_dirs: request.add_dirs.clone(),
            max_budget_usd: request.max_budget_usd,
            fallback_model: Some(request.fallback_model.clone()).filter(|m| !m.trim().is_empty()),
            partial_messages: true,
            initialize: true,
            ..RunOptions::default()
        };
        let env = self.claude_env().await;
        let extras = run::RunExtras::default();
        let started = run::start(
            &bin,
            options,
            RunKind::Chat,
            &env,
            &self.inner.processes,
            self.sink().run_events(),
            extras,
        )
        .await?;
        self.inner
            .run_inputs
            .lock_or_recover()
            .insert(started.run_id, started.input.clone());
        // The owner drops its receiver when the run ends; then the route is no longer needed.
        let backend = self.clone();
        let (run_id, input) = (started.run_id, started.input.clone());
        tokio::spawn(async move {
            input.closed().await;
            backend.forget_run(run_id);
        });
        Ok(RunStart {
            run_id: started.run_id,
            pid: started.pid,
        })
    }

    /// Forgets the input channel of a run that ended.
    fn forget_run(&self, run_id: u64) {
        self.inner.run_inputs.lock_or_recover().remove(&run_id);
    }
}

impl Backend {
    /// Takes a checkpoint when the project has automatic checkpoints on. A failure is logged and
    /// reported, never a reason to stop the run.
    pub(super) async fn auto_checkpoint(&self, project: PathBuf, session_id: String, trigger: Trigger) {
        let command = CheckpointCreate {
            project_path: project,
            session_id,
            trigger,
            description: None,
        };
        if let Err(error) = self.checkpoints(command.into()).await {
            tracing::warn!(%error, "automatic checkpoint failed");
            self.sink()
                .send(crate::backend::event::Event::Failed {
                    request_id: 0,
                    command: "checkpoint_create",
                    error: format!("automatic checkpoint failed: {error}"),
                    detail: Default::default(),
                })
                .await;
        }
    }
}

impl Backend {
    /// Whether the project has automatic checkpoints on.
    async fn auto_checkpoints_on(&self, project: &std::path::Path) -> bool {
        let project = project.to_path_buf();
        self.blocking(move |db| Ok(settings::load(&db.writer())?.auto_checkpoints_on(&project)))
            .await
            .unwrap_or(false)
    }

    /// Claude settings with a PreToolUse hook that runs `anyon checkpoints hook` before every
    /// file-changing tool: the CLI waits for it, so the checkpoint really comes before the change,
    /// whether the tool was approved in a card or allowed without asking.
    fn checkpoint_hook_settings(&self) -> Option<String> {
        let exe = self.self_exe()?;
        let command = hook_command(&self.paths().root().display().to_string(), &exe.display().to_string());
        let settings = serde_json::json!({
            "hooks": {
                "PreToolUse": [{
                    "matcher": "Edit|MultiEdit|Write|NotebookEdit|Bash",
                    "hooks": [{ "type": "command", "command": command }]
                }]
            }
        });
        Some(settings.to_string())
    }
}

/// Adds the chat's output style (`outputStyle`) to the run's `--settings` JSON, creating it when there is
/// none; an empty style leaves the settings as they are.
fn with_output_style(settings: Option<String>, style: &str) -> Option<String> {
    if style.is_empty() {
        return settings;
    }
    let mut value = settings
        .as_deref()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok())
        .filter(serde_json::Value::is_object)
        .unwrap_or_else(|| serde_json::json!({}));
    if let Some(object) = value.as_object_mut() {
        object.insert("outputStyle".to_owned(), serde_json::Value::from(style));
    }
    Some(value.to_string())
}

/// The hook's shell command. Claude Code runs hook commands with a POSIX shell on every platform (Git
/// Bash on Windows), so paths are single-quoted, and Windows paths are given with forward slashes, which
/// both Git Bash and Windows itself accept.
fn hook_command(data_root: &str, exe: &str) -> String {
    let path = |text: &str| {
        let text = if cfg!(windows) || text.contains(":\\") {
            text.replace('\\', "/")
        } else {
            text.to_string()
        };
        format!("'{}'", text.replace('\'', "'\\''"))
    };
    format!("ANYON_HOME={} {} checkpoints hook", path(data_root), path(exe))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod hook_tests {
    use super::hook_command;

    #[test]
    fn hook_commands_quote_paths_for_a_posix_shell() {
        assert_eq!(
            hook_command("/home/a b/.local/share/anyon", "/opt/it's/anyon"),
            "ANYON_HOME='/home/a b/.local/share/anyon' '/opt/it'\\''s/anyon' checkpoints hook"
        );
        assert_eq!(
            hook_command(
                "C:\\Users\\Ada\\AppData\\Roaming\\anyon",
                "C:\\Program Files\\ANYON\\anyon.exe"
            ),
            "ANYON_HOME='C:/Users/Ada/AppData/Roaming/anyon' 'C:/Program Files/ANYON/anyon.exe' checkpoints hook"
        );
    }
}
