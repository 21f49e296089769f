//! The agent commands: definitions, runs (recorded in `agent_runs` and to a file), history,
//! import and export.

use std::path::PathBuf;

use super::{Backend, BackendError};
use crate::backend::event::Event;
use crate::domain::agents::files::{self, Conflict};
use crate::domain::agents::requests::{Deleted, Exported, Reply, Request, RunOutput, RunStarted};
use crate::domain::agents::table::{self, RunStatus};
use crate::domain::agents::{Agent, PermissionMode, PromptMode};
use crate::domain::claude::run::{self, RunExtras, RunOptions};
use crate::domain::claude::stream::{self, InputBlock};
use crate::domain::process::RunKind;
use crate::util::request::Ask;
use crate::util::sync::LockExt;

/// Lines of a recorded run read back at most.
const MAX_OUTPUT_LINES: usize = 50_000;

impl Backend {
    pub(super) async fn agents(&self, request: Request) -> Result<Reply, BackendError> {
        match request {
            Request::ListAgents(q) => {
                let agents = self.blocking(|db| Ok(table::list_agents(&db.writer())?)).await?;
                Ok(q.answer(agents))
            }
            Request::CreateAgent(q) => {
                let draft = q.draft.clone();
                let agent = self
                    .blocking(move |db| Ok(table::create_agent(&db.writer(), draft, None, &Default::default())?))
                    .await?;
                Ok(q.answer(agent))
            }
            Request::UpdateAgent(q) => {
                let (id, draft) = (q.id, q.draft.clone());
                let agent = self
                    .blocking(move |db| Ok(table::update_agent(&db.writer(), id, draft)?))
                    .await?;
                Ok(q.answer(agent))
            }
            Request::DuplicateAgent(q) => {
                let id = q.id;
                let agent = self
                    .blocking(move |db| Ok(table::duplicate_agent(&db.writer(), id)?))
                    .await?;
                Ok(q.answer(agent))
            }
            Request::DeleteAgent(q) => {
                let id = q.id;
                self.blocking(move |db| Ok(table::delete_agent(&db.writer(), id)?))
                    .await?;
                Ok(q.answer(Deleted { id }))
            }
            Request::ListAgentRuns(q) => {
                let (agent_id, status) = (q.agent_id, q.status);
                let runs = self
                    .blocking(move |db| Ok(table::list_runs(&db.writer(), agent_id, status)?))
                    .await?;
                Ok(q.answer(runs))
            }
            Request::ExecuteAgent(q) => {
                let started = self
                    .start_agent(
                        q.agent_id,
                        q.project_path.clone(),
                        q.task.clone(),
                        q.model.clone(),
                        q.interactive,
                    )
                    .await?;
                Ok(q.answer(started))
            }
            Request::KillAgentSession(q) => {
                let agent_run_id = q.agent_run_id;
                let run_id = self.inner.agent_runs.lock_or_recover().get(&agent_run_id).copied();
                match run_id {
                    Some(run_id) if self.inner.processes.cancel(run_id).await => Ok(q.answer(())),
                    _ => Err(BackendError::NoSuchRun(agent_run_id as u64)),
                }
            }
            Request::ReadAgentRunOutput(q) => {
                let agent_run_id = q.agent_run_id;
                let path = self.run_record_path(agent_run_id);
                // Read and parsed on the blocking pool: a run can have recorded tens of thousands of lines.
                let lines = tokio::task::spawn_blocking(move || {
                    let text = std::fs::read_to_string(&path).map_err(|source| BackendError::NoRunOutput {
                        agent_run_id,
                        path: path.clone(),
                        source,
                    })?;
                    Ok::<_, BackendError>(stream::parse_recorded(&text, MAX_OUTPUT_LINES))
                })
                .await??;
                Ok(q.answer(RunOutput { agent_run_id, lines }))
            }
            Request::ExportAgents(q) => {
                let (ids, path) = (q.ids.clone(), q.path.clone());
                let exported = self
                    .blocking(move |db| {
                        let all = table::list_agents(&db.writer())?;
                        let chosen: Vec<Agent> = match &ids {
                            Some(ids) => all.into_iter().filter(|a| ids.contains(&a.id)).collect(),
                            None => all,
                        };
                        write_atomically(&path, files::export(&chosen).as_bytes())?;
                        Ok(Exported {
                            path,
                            count: chosen.len(),
                        })
                    })
                    .await?;
                Ok(q.answer(exported))
            }
            Request::PreviewAgentImport(q) => {
                let path = q.path.clone();
                let preview = self
                    .blocking(move |db| {
                        let records = files::parse(&read_file(&path)?)?;
                        Ok(files::preview(&db.writer(), records)?)
                    })
                    .await?;
                Ok(q.answer(preview))
            }
            Request::ImportAgents(q) => {
                let (path, conflict, trust) = (q.path.clone(), q.conflict, q.trust.clone());
                let imported = self
                    .blocking(move |db| {
                        let records = files::parse(&read_file(&path)?)?;
                        import_all(&db.writer(), records, conflict, &trust)
                    })
                    .await?;
                Ok(q.answer(imported))
            }
        }
    }

    /// Where an agent run's stream-json lines are recorded.
    pub fn run_record_path(&self, agent_run_id: i64) -> PathBuf {
        self.paths().root().join("runs").join(format!("{agent_run_id}.jsonl"))
    }

    async fn start_agent(
        &self,
        agent_id: i64,
        project: PathBuf,
        task: String,
        model: Option<String>,
        interactive: bool,
    ) -> Result<RunStarted, BackendError> {
        let project_text = project.display().to_string();
        let (agent, agent_run_id, model) = self
            .blocking(move |db| {
                let conn = db.writer();
                let agent = table::get_agent(&conn, agent_id)?;
                let task = task.trim().to_owned();
                let task = if task.is_empty() {
                    agent.draft.default_task.clone().unwrap_or_default()
                } else {
                    task
                };
                let model = model
                    .filter(|m| !m.trim().is_empty())
                    .unwrap_or_else(|| agent.draft.model.clone());
                let run_id = table::insert_run(&conn, &agent, &task, &model, &project_text)?;
                Ok((
                    Agent {
                        draft: crate::domain::agents::AgentDraft {
                            default_task: Some(task),
                            ..agent.draft.clone()
                        },
                        ..agent
                    },
                    run_id,
                    model,
                ))
            })
            .await?;
        let task = agent.draft.default_task.clone().unwrap_or_default();
        let (append, replace) = match agent.draft.prompt_mode {
            PromptMode::Append => (Some(agent.draft.system_prompt.clone()), None),
            PromptMode::Replace => (None, Some(agent.draft.system_prompt.clone())),
        };
        let options = RunOptions {
            project: project.clone(),
            prompt: vec![InputBlock::text(task)],
            model: Some(model),
            permission_mode: Some(agent.draft.permission_mode).filter(|m| *m != PermissionMode::Default),
            append_system_prompt: append,
            system_prompt: replace,
            allowed_tools: agent.draft.allowed_tools.clone(),
            disallowed_tools: agent.draft.disallowed_tools.clone(),
            permission_prompts: interactive,
            settings: agent
                .hooks
                .as_ref()
                .map(|hooks| serde_json::json!({ "hooks": hooks }).to_string()),
            ..RunOptions::default()
        };
        let started = match self.claude_binary().await {
            Ok(bin) => {
                let extras = RunExtras {
                    record: Some(self.run_record_path(agent_run_id)),
                };
                let env = self.claude_env().await;
                run::start(
                    &bin,
                    options,
                    RunKind::Agent,
                    &env,
                    &self.inner.processes,
                    self.sink().run_events(),
                    extras,
                )
                .await
                .map_err(BackendError::from)
            }
            Err(error) => Err(error),
        };
        let started = match started {
            Ok(started) => started,
            Err(error) => {
                let message = error.to_string();
                self.finish_agent_run(agent_run_id, RunStatus::Failed, None, Some(message), None, None)
                    .await;
                return Err(error);
            }
        };
        let (run_id, pid) = (started.run_id, started.pid);
        self.blocking(move |db| Ok(table::mark_running(&db.writer(), agent_run_id, pid)?))
            .await?;
        self.publish_run(agent_run_id).await;
        self.inner.agent_runs.lock_or_recover().insert(agent_run_id, run_id);
        self.inner
            .run_inputs
            .lock_or_recover()
            .insert(run_id, started.input.clone());
        let backend = self.clone();
        let finished = started.finished;
        tokio::spawn(async move {
            let Ok(outcome) = finished.await else { return };
            let status = if outcome.cancelled {
                RunStatus::Cancelled
            } else if outcome.exit_code == Some(0) && !outcome.metrics.as_ref().is_some_and(|m| m.is_error) {
                RunStatus::Completed
            } else {
                RunStatus::Failed
            };
            if let Some(message) = &outcome.error
                && status == RunStatus::Failed
            {
                backend
                    .sink()
                    .send(Event::AgentError {
                        run_id,
                        message: message.clone(),
                    })
                    .await;
            }
            backend
                .finish_agent_run(
                    agent_run_id,
                    status,
                    outcome.exit_code,
                    outcome.error.clone(),
                    outcome.session_id.clone(),
                    outcome.metrics.clone(),
                )
                .await;
            backend.inner.agent_runs.lock_or_recover().remove(&agent_run_id);
            backend.inner.run_inputs.lock_or_recover().remove(&run_id);
        });
        Ok(RunStarted {
            agent_run_id,
            run_id,
            pid,
        })
    }

    async fn finish_agent_run(
        &self,
        agent_run_id: i64,
        status: RunStatus,
        exit_code: Option<i32>,
        error: Option<String>,
        session_id: Option<String>,
        metrics: Option<run::RunMetrics>,
    ) {
        let saved = self
            .blocking(move |db| {
                Ok(table::finish_run(
                    &db.writer(),
                    agent_run_id,
                    status,
                    exit_code,
                    error.as_deref(),
                    session_id.as_deref(),
                    metrics.as_ref(),
                )?)
            })
            .await;
        if let Err(error) = saved {
            tracing::error!(agent_run_id, %error, "could not record the end of an agent run");
        }
        self.publish_run(agent_run_id).await;
    }

    /// Tells the window a history row changed.
    async fn publish_run(&self, agent_run_id: i64) {
        let run = self
            .blocking(move |db| Ok(table::get_run(&db.writer(), agent_run_id)?))
            .await;
        if let Ok(Some(run)) = run {
            self.sink().send(Event::AgentRunUpdated { run }).await;
        }
    }
}

fn read_file(path: &std::path::Path) -> Result<String, BackendError> {
    crate::util::fs::read_capped_text(path, crate::util::fs::MAX_CONFIG_FILE).map_err(|source| {
        BackendError::ReadAgentFile {
            path: path.to_path_buf(),
            source,
        }
    })
}

fn import_all(
    conn: &rusqlite::Connection,
    records: Vec<files::AgentRecord>,
    conflict: Conflict,
    trust: &crate::domain::agents::trust::Trust,
) -> Result<Vec<files::Imported>, BackendError> {
    // All or nothing: a failure half way leaves the agents as they were.
    let tx = conn.unchecked_transaction()?;
    let agents = files::import(&tx, records, conflict, trust)?;
    tx.commit()?;
    Ok(agents)
}

fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> Result<(), BackendError> {
    crate::util::fs::write_atomic(path, bytes).map_err(|source| BackendError::WriteAgentFile {
        path: path.to_path_buf(),
        source,
    })
}
