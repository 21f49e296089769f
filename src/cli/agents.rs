//! `anyon agents ...`: agent definitions, runs, history and files from the command line.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::json;

use super::{answer, answer_json, call, emit, print_error, write_json, write_json_line};
use crate::backend::event::Event;
use crate::backend::{Backend, BackendError, EventReceiver};
use crate::domain::agents::files::{Conflict, ImportPreview};
use crate::domain::agents::requests::{
    CreateAgent, DeleteAgent, ExecuteAgent, ExportAgents, ImportAgents, KillAgentSession, ListAgentRuns, ListAgents,
    PreviewAgentImport, RunStarted, UpdateAgent,
};
use crate::domain::agents::table::{AgentRun, RunStatus};
use crate::domain::agents::trust::{AgentHook, Trust, hooks_of};
use crate::domain::agents::{Agent, AgentDraft, AgentError, PermissionMode, PromptMode, parse_tools};
use crate::util::request::Ask;

#[derive(Debug, Subcommand)]
pub enum AgentsVerb {
    /// List the agents.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show one agent.
    Show {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Create an agent.
    Create(AgentFields),
    /// Change an agent's fields (what is not given stays as it is).
    Edit {
        name: String,
        #[command(flatten)]
        fields: EditFields,
    },
    /// Delete an agent (its run history stays).
    Delete {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Write agents to a file (all, or the named ones).
    Export {
        /// The file to write.
        #[arg(long)]
        file: PathBuf,
        /// Agents to export (all when none is named).
        names: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// Read agents from a file (ANYON's format or an earlier app's `.opcode.json` / `.claudia.json`).
    Import {
        file: PathBuf,
        /// What to do when a name is taken.
        #[arg(long, value_enum, default_value = "rename")]
        conflict: Conflict,
        /// Only show what would be imported.
        #[arg(long)]
        preview: bool,
        /// Import hooks (shell commands Claude runs without asking) and permission modes other than
        /// default, plan and acceptEdits; without it such a file is refused, naming each of them.
        #[arg(long)]
        trust: bool,
        #[arg(long)]
        json: bool,
    },
    /// Run an agent in a project and stream its output (recorded in the history).
    Run {
        name: String,
        #[arg(long)]
        project: PathBuf,
        /// The task (the agent's default task when omitted).
        #[arg(long)]
        task: Option<String>,
        /// Another model for this run.
        #[arg(long)]
        model: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// The run history.
    Runs {
        /// Only this agent's runs.
        #[arg(long)]
        agent: Option<String>,
        /// Only runs with this status (pending, running, completed, failed, cancelled, interrupted).
        #[arg(long)]
        status: Option<RunStatus>,
        #[arg(long)]
        json: bool,
    },
}

/// The fields of a new agent.
#[derive(Debug, Args)]
pub struct AgentFields {
    #[arg(long)]
    pub name: String,
    #[arg(long, default_value = "bot")]
    pub icon: String,
    #[arg(long, default_value = "")]
    pub system_prompt: String,
    /// Replace Claude's system prompt instead of adding to it.
    #[arg(long)]
    pub replace_system_prompt: bool,
    #[arg(long)]
    pub default_task: Option<String>,
    #[arg(long, default_value = "sonnet")]
    pub model: String,
    #[arg(long, default_value = "default")]
    pub permission_mode: PermissionMode,
    /// Tool rules the agent may use without asking (comma separated).
    #[arg(long, default_value = "")]
    pub allowed_tools: String,
    /// Tool rules the agent may never use (comma separated).
    #[arg(long, default_value = "")]
    pub disallowed_tools: String,
    #[arg(long)]
    pub json: bool,
}

/// Fields to change; the rest stay.
#[derive(Debug, Args)]
pub struct EditFields {
    #[arg(long)]
    pub rename: Option<String>,
    #[arg(long)]
    pub icon: Option<String>,
    #[arg(long)]
    pub system_prompt: Option<String>,
    #[arg(long)]
    pub prompt_mode: Option<String>,
    #[arg(long)]
    pub default_task: Option<String>,
    #[arg(long)]
    pub model: Option<String>,
    #[arg(long)]
    pub permission_mode: Option<PermissionMode>,
    #[arg(long)]
    pub allowed_tools: Option<String>,
    #[arg(long)]
    pub disallowed_tools: Option<String>,
    #[arg(long)]
    pub json: bool,
}

pub fn run(backend: &Backend, events: EventReceiver, verb: AgentsVerb) -> i32 {
    match verb {
        AgentsVerb::List { json } => answer(backend, ListAgents, json, |out, agents| {
            if json {
                return write_json(out, &agents);
            }
            {
                for agent in agents {
                    writeln!(
                        out,
                        "{:<28} {:<10} {}",
                        agent.draft.name,
                        agent.draft.model,
                        agent.draft.default_task.unwrap_or_default()
                    )?;
                }
                Ok(())
            }
        }),
        AgentsVerb::Show { name, json } => match find(backend, &name, json) {
            Ok(agent) => emit(|out| write_json(out, &agent)),
            Err(code) => code,
        },
        AgentsVerb::Create(fields) => {
            let json = fields.json;
            let draft = AgentDraft {
                name: fields.name,
                icon: fields.icon,
                system_prompt: fields.system_prompt,
                prompt_mode: if fields.replace_system_prompt {
                    PromptMode::Replace
                } else {
                    PromptMode::Append
                },
                default_task: fields.default_task,
                model: fields.model,
                permission_mode: fields.permission_mode,
                allowed_tools: parse_tools(&fields.allowed_tools),
                disallowed_tools: parse_tools(&fields.disallowed_tools),
            };
            answer(backend, CreateAgent { draft }, json, |out, agent| {
                write_json(out, &agent)
            })
        }
        AgentsVerb::Edit { name, fields } => {
            let json = fields.json;
            let agent = match find(backend, &name, json) {
                Ok(agent) => agent,
                Err(code) => return code,
            };
            let mut draft = agent.draft.clone();
            if let Some(v) = fields.rename {
                draft.name = v;
            }
            if let Some(v) = fields.icon {
                draft.icon = v;
            }
            if let Some(v) = fields.system_prompt {
                draft.system_prompt = v;
            }
            if let Some(v) = fields.prompt_mode {
                draft.prompt_mode = PromptMode::from_key(&v);
            }
            if let Some(v) = fields.default_task {
                draft.default_task = Some(v);
            }
            if let Some(v) = fields.model {
                draft.model = v;
            }
            if let Some(v) = fields.permission_mode {
                draft.permission_mode = v;
            }
            if let Some(v) = fields.allowed_tools {
                draft.allowed_tools = parse_tools(&v);
            }
            if let Some(v) = fields.disallowed_tools {
                draft.disallowed_tools = parse_tools(&v);
            }
            answer(backend, UpdateAgent { id: agent.id, draft }, json, |out, agent| {
                write_json(out, &agent)
            })
        }
        AgentsVerb::Delete { name, json } => match find(backend, &name, json) {
            Ok(agent) => answer_json(backend, DeleteAgent { id: agent.id }, json),
            Err(code) => code,
        },
        AgentsVerb::Export { file, names, json } => {
            let ids = if names.is_empty() {
                None
            } else {
                let mut ids = Vec::new();
                for name in &names {
                    match find(backend, name, json) {
                        Ok(agent) => ids.push(agent.id),
                        Err(code) => return code,
                    }
                }
                Some(ids)
            };
            answer_json(backend, ExportAgents { ids, path: file }, json)
        }
        AgentsVerb::Import {
            file,
            conflict,
            preview,
            trust,
            json,
        } => {
            if preview {
                let request = PreviewAgentImport { path: file };
                answer(backend, request, json, |out, previews| {
                    if json {
                        return write_json(out, &PreviewAgentImport::wrap(previews));
                    }
                    for item in &previews {
                        write_preview(out, item, conflict)?;
                    }
                    Ok(())
                })
            } else {
                let request = ImportAgents {
                    path: file,
                    conflict,
                    trust: if trust { Trust::Everything } else { Trust::Nothing },
                };
                answer(backend, request, json, |out, imported| {
                    if json {
                        return write_json(out, &ImportAgents::wrap(imported));
                    }
                    for item in &imported {
                        writeln!(out, "imported {}", item.agent.draft.name)?;
                        write_fields(out, &item.agent.draft, &hooks_of(item.agent.hooks.as_ref()))?;
                        if let Some(old) = &item.replaced_hooks {
                            writeln!(out, "  replaced the existing agent's hooks; it had:")?;
                            write_hooks(out, old)?;
                        }
                    }
                    Ok(())
                })
            }
        }
        AgentsVerb::Runs { agent, status, json } => {
            let agent_id = match agent {
                Some(name) => match find(backend, &name, json) {
                    Ok(agent) => Some(agent.id),
                    Err(code) => return code,
                },
                None => None,
            };
            let request = ListAgentRuns { agent_id, status };
            answer(backend, request, json, |out, runs| {
                if json {
                    return write_json(out, &ListAgentRuns::wrap(runs));
                }
                for run in runs {
                    writeln!(out, "{}", run_line(&run))?;
                }
                Ok(())
            })
        }
        AgentsVerb::Run {
            name,
            project,
            task,
            model,
            json,
        } => run_agent(backend, events, &name, project, task, model, json),
    }
}

/// An agent of a file to import, with everything it lets Claude do.
fn write_preview(out: &mut dyn std::io::Write, item: &ImportPreview, conflict: Conflict) -> std::io::Result<()> {
    let draft = &item.record.draft;
    let taken = match (item.conflicts_with, conflict) {
        (None, _) => "",
        (Some(_), Conflict::Rename) => "  (name taken: imported renamed)",
        (Some(_), Conflict::Replace) => "  (name taken: replaces the existing agent)",
        (Some(_), Conflict::Skip) => "  (name taken: skipped)",
    };
    writeln!(out, "{}{taken}", draft.name)?;
    write_fields(out, draft, &item.hook_commands)?;
    if item.needs_trust {
        writeln!(out, "  needs --trust: hooks or a permission mode that skips questions")?;
    }
    if item.replaces_hooks && conflict == Conflict::Replace {
        writeln!(out, "  replacing it replaces its hooks; it has:")?;
        write_hooks(out, &item.existing_hook_commands)?;
    }
    if let Some(invalid) = &item.invalid {
        writeln!(out, "  cannot be imported: {invalid}")?;
    }
    Ok(())
}

fn write_fields(out: &mut dyn std::io::Write, draft: &AgentDraft, hooks: &[AgentHook]) -> std::io::Result<()> {
    let list = |rules: &[String]| {
        if rules.is_empty() {
            "(none)".to_owned()
        } else {
            rules.join(", ")
        }
    };
    writeln!(out, "  model: {}", draft.model)?;
    writeln!(out, "  permission mode: {}", draft.permission_mode.as_str())?;
    writeln!(out, "  allowed tools: {}", list(&draft.allowed_tools))?;
    writeln!(out, "  disallowed tools: {}", list(&draft.disallowed_tools))?;
    if hooks.is_empty() {
        writeln!(out, "  hooks: (none)")
    } else {
        writeln!(out, "  hooks (commands Claude runs without asking):")?;
        write_hooks(out, hooks)
    }
}

fn write_hooks(out: &mut dyn std::io::Write, hooks: &[AgentHook]) -> std::io::Result<()> {
    if hooks.is_empty() {
        return writeln!(out, "    (none)");
    }
    for hook in hooks {
        writeln!(out, "    {hook}")?;
    }
    Ok(())
}

fn run_line(run: &AgentRun) -> String {
    let cost = run.total_cost_usd.map_or("-".to_owned(), |c| format!("${c:.4}"));
    format!(
        "#{:<5} {:<10} {:<20} {:<8} {}",
        run.id, run.status, run.agent_name, cost, run.started_at
    )
}

/// The agent called `name`, or the exit status after printing why not.
fn find(backend: &Backend, name: &str, json: bool) -> Result<Agent, i32> {
    match call(backend, ListAgents) {
        Ok(agents) => agents.into_iter().find(|a| a.draft.name == name.trim()).ok_or_else(|| {
            let missing = AgentError::NotFoundByName(name.to_owned());
            print_error(&BackendError::Agents(missing.into()), json);
            1
        }),
        Err(error) => {
            print_error(&error, json);
            Err(1)
        }
    }
}

/// Runs an agent like `anyon chat`: the CLI's lines between ANYON's start and exit lines.
fn run_agent(
    backend: &Backend,
    mut events: EventReceiver,
    name: &str,
    project: PathBuf,
    task: Option<String>,
    model: Option<String>,
    json: bool,
) -> i32 {
    let agent = match find(backend, name, json) {
        Ok(agent) => agent,
        Err(code) => return code,
    };
    let project = std::fs::canonicalize(&project).unwrap_or(project);
    let request = ExecuteAgent {
        agent_id: agent.id,
        project_path: project,
        task: task.unwrap_or_default(),
        model,
        interactive: false,
    };
    let runtime = backend.runtime().clone();
    let (agent_run_id, run_id) = match call(backend, request) {
        Ok(RunStarted {
            agent_run_id,
            run_id,
            pid,
        }) => {
            if json {
                print_line(&json!({"type": "anyon_start", "agent_run_id": agent_run_id, "run_id": run_id, "pid": pid}));
            }
            (agent_run_id, run_id)
        }
        Err(error) => {
            print_error(&error, json);
            return 1;
        }
    };
    let canceller = backend.clone();
    runtime.spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            let _ = canceller.call(KillAgentSession { agent_run_id }).await;
        }
    });
    // The process's end and the history row's last update arrive in either order; wait for both.
    let mut exit = None;
    let mut final_run = None;
    loop {
        let Some(event) = runtime.block_on(events.recv()) else {
            return 1;
        };
        match event {
            Event::AgentOutput {
                run_id: id,
                raw,
                message,
                ..
            } if id == run_id => {
                if json {
                    println!("{raw}");
                } else if let crate::domain::claude::stream::StreamMessage::Result(result) = &*message {
                    println!("{}", result.result.clone().unwrap_or_default());
                }
            }
            Event::AgentError { run_id: id, message } if id == run_id && !json => eprintln!("error: {message}"),
            Event::RunFinished { outcome, .. } if outcome.run_id == run_id => {
                exit = Some(match (outcome.cancelled, outcome.exit_code) {
                    (true, _) => 130,
                    (false, Some(code)) => code,
                    (false, None) => 1,
                });
            }
            Event::AgentRunUpdated { run } if run.id == agent_run_id && run.status.is_final() => {
                final_run = Some(run);
            }
            _ => {}
        }
        if let (Some(code), Some(run)) = (exit, final_run.as_ref()) {
            if json {
                print_line(&json!({"type": "anyon_exit", "agent_run_id": agent_run_id, "run": run}));
            } else {
                eprintln!("{}", run_line(run));
            }
            return code;
        }
    }
}

fn print_line(value: &serde_json::Value) {
    let stdout = std::io::stdout();
    let _ = write_json_line(&mut stdout.lock(), value);
}
