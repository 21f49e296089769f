//! The `agents` and `agent_runs` tables.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;
use serde_json::{Map, Value};

use super::{Agent, AgentDraft, AgentError, PromptMode};
use crate::domain::claude::run::RunMetrics;

/// Why an agent query failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Agent(#[from] AgentError),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

const AGENT_COLUMNS: &str = "id, name, icon, system_prompt, system_prompt_mode, default_task, model, \
     permission_mode, allowed_tools, disallowed_tools, hooks, extra, created_at, updated_at";

fn json_list(text: String) -> Vec<String> {
    serde_json::from_str(&text).unwrap_or_default()
}

fn agent_from_row(row: &Row<'_>) -> rusqlite::Result<Agent> {
    let hooks: Option<String> = row.get(10)?;
    let extra: String = row.get(11)?;
    Ok(Agent {
        id: row.get(0)?,
        draft: AgentDraft {
            name: row.get(1)?,
            icon: row.get(2)?,
            system_prompt: row.get(3)?,
            prompt_mode: PromptMode::from_key(&row.get::<_, String>(4)?),
            default_task: row.get(5)?,
            model: row.get(6)?,
            permission_mode: row.get(7)?,
            allowed_tools: json_list(row.get(8)?),
            disallowed_tools: json_list(row.get(9)?),
        },
        hooks: hooks.and_then(|h| serde_json::from_str(&h).ok()),
        extra: serde_json::from_str(&extra).unwrap_or_default(),
        created_at: row.get(12)?,
        updated_at: row.get(13)?,
    })
}

/// Every agent, by name.
pub fn list_agents(conn: &Connection) -> Result<Vec<Agent>, StoreError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {AGENT_COLUMNS} FROM agents ORDER BY name COLLATE NOCASE"
    ))?;
    let agents = stmt.query_map([], agent_from_row)?.collect::<Result<Vec<_>, _>>()?;
    Ok(agents)
}

pub fn get_agent(conn: &Connection, id: i64) -> Result<Agent, StoreError> {
    conn.query_row(
        &format!("SELECT {AGENT_COLUMNS} FROM agents WHERE id = ?1"),
        [id],
        agent_from_row,
    )
    .optional()?
    .ok_or(StoreError::Agent(AgentError::NotFound(id)))
}

pub fn find_agent(conn: &Connection, name: &str) -> Result<Agent, StoreError> {
    conn.query_row(
        &format!("SELECT {AGENT_COLUMNS} FROM agents WHERE name = ?1"),
        [name.trim()],
        agent_from_row,
    )
    .optional()?
    .ok_or_else(|| StoreError::Agent(AgentError::NotFoundByName(name.trim().to_owned())))
}

fn name_taken(conn: &Connection, name: &str, except: Option<i64>) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM agents WHERE name = ?1 AND id IS NOT ?2)",
        params![name, except],
        |row| row.get(0),
    )
}

fn to_json(value: &impl Serialize) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
}

/// Saves a new agent. `hooks` and `extra` come from imports; a form passes None and empty.
pub fn create_agent(
    conn: &Connection,
    draft: AgentDraft,
    hooks: Option<&Value>,
    extra: &Map<String, Value>,
) -> Result<Agent, StoreError> {
    let draft = draft.validated()?;
    if name_taken(conn, &draft.name, None)? {
        return Err(AgentError::NameTaken(draft.name).into());
    }
    conn.execute(
        "INSERT INTO agents (name, icon, system_prompt, system_prompt_mode, default_task, model, permission_mode,
                             allowed_tools, disallowed_tools, hooks, extra)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            draft.name,
            draft.icon,
            draft.system_prompt,
            draft.prompt_mode.key(),
            draft.default_task,
            draft.model,
            draft.permission_mode,
            to_json(&draft.allowed_tools),
            to_json(&draft.disallowed_tools),
            hooks.map(to_json),
            to_json(extra),
        ],
    )?;
    get_agent(conn, conn.last_insert_rowid())
}

/// Saves the edited fields of an agent; hooks and unknown fields stay as they were.
pub fn update_agent(conn: &Connection, id: i64, draft: AgentDraft) -> Result<Agent, StoreError> {
    let draft = draft.validated()?;
    get_agent(conn, id)?;
    if name_taken(conn, &draft.name, Some(id))? {
        return Err(AgentError::NameTaken(draft.name).into());
    }
    conn.execute(
        "UPDATE agents SET name = ?2, icon = ?3, system_prompt = ?4, system_prompt_mode = ?5, default_task = ?6,
             model = ?7, permission_mode = ?8, allowed_tools = ?9, disallowed_tools = ?10,
             updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
         WHERE id = ?1",
        params![
            id,
            draft.name,
            draft.icon,
            draft.system_prompt,
            draft.prompt_mode.key(),
            draft.default_task,
            draft.model,
            draft.permission_mode,
            to_json(&draft.allowed_tools),
            to_json(&draft.disallowed_tools),
        ],
    )?;
    get_agent(conn, id)
}

/// A name not used yet: `base`, else `base (2)`, `base (3)`, ...
pub fn free_name(conn: &Connection, base: &str) -> Result<String, StoreError> {
    let base = base.trim();
    if !name_taken(conn, base, None)? {
        return Ok(base.to_owned());
    }
    for n in 2.. {
        let candidate = format!("{base} ({n})");
        if !name_taken(conn, &candidate, None)? {
            return Ok(candidate);
        }
    }
    unreachable!("names run out only after usize::MAX tries")
}

/// Copies an agent, everything included, under a free name.
pub fn duplicate_agent(conn: &Connection, id: i64) -> Result<Agent, StoreError> {
    let original = get_agent(conn, id)?;
    let name = free_name(conn, &format!("{} copy", original.draft.name))?;
    let draft = AgentDraft {
        name,
        ..original.draft.clone()
    };
    create_agent(conn, draft, original.hooks.as_ref(), &original.extra)
}

/// Deletes an agent; its runs stay in the history under its name.
pub fn delete_agent(conn: &Connection, id: i64) -> Result<(), StoreError> {
    if conn.execute("DELETE FROM agents WHERE id = ?1", [id])? == 0 {
        return Err(AgentError::NotFound(id).into());
    }
    Ok(())
}

/// One row of the run history.
/// Where an agent run is in its life, as stored in `agent_runs.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Pending,
    Running,
    Completed,
    Failed,
    Cancelled,
    /// Left running by an ANYON that ended without seeing it finish.
    Interrupted,
}

impl RunStatus {
    pub const ALL: [RunStatus; 6] = [
        RunStatus::Pending,
        RunStatus::Running,
        RunStatus::Completed,
        RunStatus::Failed,
        RunStatus::Cancelled,
        RunStatus::Interrupted,
    ];

    /// The stored (and shown) name.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Pending => "pending",
            RunStatus::Running => "running",
            RunStatus::Completed => "completed",
            RunStatus::Failed => "failed",
            RunStatus::Cancelled => "cancelled",
            RunStatus::Interrupted => "interrupted",
        }
    }

    /// Whether the run has ended (its row no longer changes).
    pub fn is_final(self) -> bool {
        !matches!(self, RunStatus::Pending | RunStatus::Running)
    }
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for RunStatus {
    type Err = UnknownStatus;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == text)
            .ok_or_else(|| UnknownStatus(text.to_owned()))
    }
}

/// A status name that is none of [`RunStatus`]'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a run status (one of pending, running, completed, failed, cancelled, interrupted)")]
pub struct UnknownStatus(pub String);

impl rusqlite::types::FromSql for RunStatus {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        let text = value.as_str()?;
        text.parse()
            .map_err(|error: UnknownStatus| rusqlite::types::FromSqlError::Other(Box::new(error)))
    }
}

impl rusqlite::types::ToSql for RunStatus {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(self.as_str().into())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentRun {
    pub id: i64,
    pub agent_id: Option<i64>,
    pub agent_name: String,
    pub agent_icon: String,
    pub task: String,
    pub model: String,
    pub project_path: String,
    pub session_id: Option<String>,
    pub status: RunStatus,
    pub pid: Option<i64>,
    pub exit_code: Option<i64>,
    pub error: Option<String>,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub duration_ms: Option<i64>,
    pub num_turns: Option<i64>,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cache_creation_tokens: i64,
    pub cache_read_tokens: i64,
    pub total_cost_usd: Option<f64>,
}

const RUN_COLUMNS: &str = "id, agent_id, agent_name, agent_icon, task, model, project_path, session_id, status, pid, \
     exit_code, error, started_at, finished_at, duration_ms, num_turns, input_tokens, output_tokens, \
     cache_creation_tokens, cache_read_tokens, total_cost_usd";

fn run_from_row(row: &Row<'_>) -> rusqlite::Result<AgentRun> {
    Ok(AgentRun {
        id: row.get(0)?,
        agent_id: row.get(1)?,
        agent_name: row.get(2)?,
        agent_icon: row.get(3)?,
        task: row.get(4)?,
        model: row.get(5)?,
        project_path: row.get(6)?,
        session_id: row.get(7)?,
        status: row.get(8)?,
        pid: row.get(9)?,
        exit_code: row.get(10)?,
        error: row.get(11)?,
        started_at: row.get(12)?,
        finished_at: row.get(13)?,
        duration_ms: row.get(14)?,
        num_turns: row.get(15)?,
        input_tokens: row.get(16)?,
        output_tokens: row.get(17)?,
        cache_creation_tokens: row.get(18)?,
        cache_read_tokens: row.get(19)?,
        total_cost_usd: row.get(20)?,
    })
}

/// Records a run about to start (status `pending`).
pub fn insert_run(conn: &Connection, agent: &Agent, task: &str, model: &str, project: &str) -> Result<i64, StoreError> {
    conn.execute(
        "INSERT INTO agent_runs (agent_id, agent_name, agent_icon, task, model, project_path, status)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending')",
        params![agent.id, agent.draft.name, agent.draft.icon, task, model, project],
    )?;
    Ok(conn.last_insert_rowid())
}

pub fn mark_running(conn: &Connection, run_id: i64, pid: u32) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE agent_runs SET status = 'running', pid = ?2 WHERE id = ?1",
        params![run_id, pid],
    )?;
    Ok(())
}

/// Records how a run ended.
pub fn finish_run(
    conn: &Connection,
    run_id: i64,
    status: RunStatus,
    exit_code: Option<i32>,
    error: Option<&str>,
    session_id: Option<&str>,
    metrics: Option<&RunMetrics>,
) -> Result<(), StoreError> {
    let m = metrics.cloned().unwrap_or_default();
    conn.execute(
        "UPDATE agent_runs SET status = ?2, exit_code = ?3, error = ?4, session_id = coalesce(?5, session_id),
             finished_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
             duration_ms = coalesce(?6, CAST((julianday('now') - julianday(started_at)) * 86400000 AS INTEGER)),
             num_turns = ?7, input_tokens = ?8, output_tokens = ?9, cache_creation_tokens = ?10,
             cache_read_tokens = ?11, total_cost_usd = ?12
         WHERE id = ?1",
        params![
            run_id,
            status,
            exit_code,
            error,
            session_id,
            m.duration_ms.map(|d| d as i64),
            m.num_turns.map(|t| t as i64),
            m.input_tokens as i64,
            m.output_tokens as i64,
            m.cache_creation_tokens as i64,
            m.cache_read_tokens as i64,
            metrics.and_then(|m| m.cost_usd),
        ],
    )?;
    Ok(())
}

pub fn get_run(conn: &Connection, run_id: i64) -> Result<Option<AgentRun>, StoreError> {
    Ok(conn
        .query_row(
            &format!("SELECT {RUN_COLUMNS} FROM agent_runs WHERE id = ?1"),
            [run_id],
            run_from_row,
        )
        .optional()?)
}

/// The run history, newest first: all runs or one agent's, optionally one status.
pub fn list_runs(
    conn: &Connection,
    agent_id: Option<i64>,
    status: Option<RunStatus>,
) -> Result<Vec<AgentRun>, StoreError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {RUN_COLUMNS} FROM agent_runs
         WHERE (?1 IS NULL OR agent_id = ?1) AND (?2 IS NULL OR status = ?2)
         ORDER BY started_at DESC, id DESC LIMIT 1000"
    ))?;
    let runs = stmt
        .query_map(params![agent_id, status], run_from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(runs)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "foreign_keys", true).unwrap();
        crate::domain::db::migrate(&mut conn, std::path::Path::new(":memory:")).unwrap();
        conn
    }

    fn draft(name: &str) -> AgentDraft {
        AgentDraft {
            name: name.into(),
            system_prompt: "Review code.".into(),
            ..AgentDraft::default()
        }
    }

    #[test]
    fn create_update_duplicate_delete() {
        let conn = db();
        let hooks = serde_json::json!({"PreToolUse": []});
        let mut extra = Map::new();
        extra.insert("color".into(), "teal".into());
        let agent = create_agent(&conn, draft("Reviewer"), Some(&hooks), &extra).unwrap();
        assert!(matches!(
            create_agent(&conn, draft(" Reviewer "), None, &Map::new()),
            Err(StoreError::Agent(AgentError::NameTaken(_)))
        ));
        let edited = update_agent(
            &conn,
            agent.id,
            AgentDraft {
                model: "opus".into(),
                ..agent.draft.clone()
            },
        )
        .unwrap();
        assert_eq!(edited.draft.model, "opus");
        assert_eq!(
            edited.hooks,
            Some(hooks.clone()),
            "editing keeps the hooks the form does not show"
        );
        assert_eq!(edited.extra, extra, "and unknown fields");
        let copy = duplicate_agent(&conn, agent.id).unwrap();
        assert_eq!(copy.draft.name, "Reviewer copy");
        assert_eq!((copy.hooks.clone(), copy.extra.clone()), (Some(hooks), extra));
        assert_eq!(
            duplicate_agent(&conn, agent.id).unwrap().draft.name,
            "Reviewer copy (2)"
        );
        delete_agent(&conn, copy.id).unwrap();
        assert!(matches!(
            delete_agent(&conn, copy.id),
            Err(StoreError::Agent(AgentError::NotFound(_)))
        ));
        assert_eq!(list_agents(&conn).unwrap().len(), 2);
    }

    #[test]
    fn runs_record_their_life() {
        let conn = db();
        let agent = create_agent(&conn, draft("Tester"), None, &Map::new()).unwrap();
        let run = insert_run(&conn, &agent, "check", "sonnet", "/p").unwrap();
        mark_running(&conn, run, 4242).unwrap();
        let metrics = RunMetrics {
            cost_usd: Some(0.25),
            input_tokens: 10,
            output_tokens: 20,
            duration_ms: Some(1500),
            num_turns: Some(2),
            ..RunMetrics::default()
        };
        finish_run(
            &conn,
            run,
            RunStatus::Completed,
            Some(0),
            None,
            Some("s-1"),
            Some(&metrics),
        )
        .unwrap();
        let stored = get_run(&conn, run).unwrap().unwrap();
        assert_eq!(
            (stored.status, stored.pid, stored.session_id.as_deref()),
            (RunStatus::Completed, Some(4242), Some("s-1"))
        );
        assert_eq!(
            (stored.input_tokens, stored.output_tokens, stored.total_cost_usd),
            (10, 20, Some(0.25))
        );
        assert_eq!(stored.duration_ms, Some(1500));
        delete_agent(&conn, agent.id).unwrap();
        let history = list_runs(&conn, None, Some(RunStatus::Completed)).unwrap();
        assert_eq!(history.len(), 1, "history outlives the agent");
        assert!(list_runs(&conn, None, Some(RunStatus::Failed)).unwrap().is_empty());
    }
}
