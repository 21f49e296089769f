//! Agent files: ANYON's own versioned export format, and import from it and from the single-agent
//! files of earlier Claude desktop apps (`.opcode.json`, `.claudia.json`, format version 1).

use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::table::{self, StoreError};
use super::{Agent, AgentDraft, ICONS, PromptMode};

/// The `format` tag of ANYON's agent files.
pub const FORMAT: &str = "anyon-agents";
/// The version this build writes; it reads this and older.
pub const VERSION: u32 = 1;

/// An agent as it travels in a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentRecord {
    #[serde(flatten)]
    pub draft: AgentDraft,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hooks: Option<Value>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Serialize, Deserialize)]
struct AgentFile {
    format: String,
    version: u32,
    exported_at: String,
    agents: Vec<AgentRecord>,
}

/// Why a file could not be read as agents.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("not JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("this file was written by a newer ANYON (agent format version {0}); update ANYON to import it")]
    TooNew(u32),
    #[error("not an agent file: expected ANYON's format or a version 1 agent export with an \"agent\" object")]
    Unrecognized,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The file text for `agents`.
pub fn export(agents: &[Agent]) -> String {
    let file = AgentFile {
        format: FORMAT.into(),
        version: VERSION,
        exported_at: chrono::Utc::now().to_rfc3339(),
        agents: agents
            .iter()
            .map(|agent| AgentRecord {
                draft: agent.draft.clone(),
                hooks: agent.hooks.clone(),
                extra: agent.extra.clone(),
            })
            .collect(),
    };
    serde_json::to_string_pretty(&file).unwrap_or_default()
}

/// Reads the agents of a file in either format.
pub fn parse(text: &str) -> Result<Vec<AgentRecord>, FileError> {
    let value: Value = serde_json::from_str(text)?;
    if value.get("format").and_then(Value::as_str) == Some(FORMAT) {
        let version = value.get("version").and_then(Value::as_u64).unwrap_or(0) as u32;
        if version > VERSION {
            return Err(FileError::TooNew(version));
        }
        let file: AgentFile = serde_json::from_value(value)?;
        return Ok(file.agents);
    }
    // A single-agent export of the earlier apps: {"version":1,"exported_at":...,"agent":{...}}.
    if value.get("version").and_then(Value::as_u64) == Some(1)
        && let Some(Value::Object(agent)) = value.get("agent")
    {
        return Ok(vec![from_legacy(agent.clone())]);
    }
    Err(FileError::Unrecognized)
}

/// Maps an earlier app's agent object; what has no field of its own is kept in `extra`.
fn from_legacy(mut agent: Map<String, Value>) -> AgentRecord {
    let mut take = |key: &str| agent.remove(key);
    let text = |value: Option<Value>| value.and_then(|v| v.as_str().map(str::to_owned));
    let name = text(take("name")).unwrap_or_default();
    let icon = text(take("icon")).unwrap_or_default();
    let system_prompt = text(take("system_prompt")).unwrap_or_default();
    let default_task = text(take("default_task"));
    let model = text(take("model"))
        .filter(|m| !m.trim().is_empty())
        .unwrap_or_else(|| "sonnet".into());
    // Hooks were stored as a JSON string.
    let hooks = match take("hooks") {
        Some(Value::String(json)) => serde_json::from_str(&json).ok(),
        Some(Value::Null) | None => None,
        Some(other) => Some(other),
    };
    let known_icon = ICONS.iter().any(|(key, _)| *key == icon);
    if !known_icon && !icon.is_empty() {
        agent.insert("original_icon".into(), Value::String(icon.clone()));
    }
    AgentRecord {
        draft: AgentDraft {
            name,
            icon: if known_icon { icon } else { "bot".into() },
            system_prompt,
            prompt_mode: PromptMode::Append,
            default_task,
            model,
            ..AgentDraft::default()
        },
        hooks,
        extra: agent,
    }
}

/// What to do with an imported agent whose name is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Conflict {
    /// Import under a free name ("Name (2)").
    Rename,
    /// Overwrite the existing agent (its run history stays).
    Replace,
    /// Leave the existing agent alone.
    Skip,
}

/// One agent of a file, as the preview shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportPreview {
    pub record: AgentRecord,
    /// The existing agent with the same name.
    pub conflicts_with: Option<i64>,
}

pub fn preview(conn: &Connection, records: Vec<AgentRecord>) -> Result<Vec<ImportPreview>, FileError> {
    records
        .into_iter()
        .map(|record| {
            let conflicts_with = table::find_agent(conn, &record.draft.name).ok().map(|a| a.id);
            Ok(ImportPreview { record, conflicts_with })
        })
        .collect()
}

/// Saves the records, resolving name conflicts with `conflict`. Returns the agents written.
pub fn import(conn: &Connection, records: Vec<AgentRecord>, conflict: Conflict) -> Result<Vec<Agent>, FileError> {
    let mut written = Vec::new();
    for record in records {
        let existing = table::find_agent(conn, &record.draft.name).ok();
        let agent = match (existing, conflict) {
            (None, _) => table::create_agent(conn, record.draft, record.hooks.as_ref(), &record.extra)?,
            (Some(_), Conflict::Skip) => continue,
            (Some(_), Conflict::Rename) => {
                let name = table::free_name(conn, &record.draft.name)?;
                table::create_agent(
                    conn,
                    AgentDraft { name, ..record.draft },
                    record.hooks.as_ref(),
                    &record.extra,
                )?
            }
            (Some(existing), Conflict::Replace) => {
                table::update_agent(conn, existing.id, record.draft)?;
                conn.execute(
                    "UPDATE agents SET hooks = ?2, extra = ?3 WHERE id = ?1",
                    rusqlite::params![
                        existing.id,
                        record.hooks.as_ref().map(|h| h.to_string()),
                        Value::Object(record.extra).to_string()
                    ],
                )
                .map_err(StoreError::from)?;
                table::get_agent(conn, existing.id)?
            }
        };
        written.push(agent);
    }
    Ok(written)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::domain::db::migrate(&mut conn, std::path::Path::new(":memory:")).unwrap();
        conn
    }

    const LEGACY: &str = r#"{"version":1,"exported_at":"2025-01-01T00:00:00Z","agent":{
        "name":"Git Commit Bot","icon":"git-branch","system_prompt":"You write commits.",
        "default_task":"Commit the staged changes","model":"opus",
        "hooks":"{\"PreToolUse\":[{\"matcher\":\"Bash\",\"hooks\":[]}]}","enable_file_read":true}}"#;

    #[test]
    fn legacy_files_import_with_nothing_lost() {
        let records = parse(LEGACY).unwrap();
        let record = &records[0];
        assert_eq!(record.draft.name, "Git Commit Bot");
        assert_eq!(record.draft.icon, "bot");
        assert_eq!(record.draft.model, "opus");
        assert_eq!(record.draft.default_task.as_deref(), Some("Commit the staged changes"));
        assert_eq!(record.hooks.as_ref().unwrap()["PreToolUse"][0]["matcher"], "Bash");
        assert_eq!(record.extra["original_icon"], "git-branch");
        assert_eq!(record.extra["enable_file_read"], true);
    }

    #[test]
    fn export_then_import_gives_the_same_agent_and_conflicts_resolve() {
        let conn = db();
        let original = table::create_agent(
            &conn,
            AgentDraft {
                name: "Scout".into(),
                allowed_tools: vec!["Read".into()],
                ..AgentDraft::default()
            },
            Some(&serde_json::json!({"Stop": []})),
            &Map::new(),
        )
        .unwrap();
        let text = export(std::slice::from_ref(&original));
        let records = parse(&text).unwrap();
        let previews = preview(&conn, records.clone()).unwrap();
        assert_eq!(previews[0].conflicts_with, Some(original.id));
        let renamed = import(&conn, records.clone(), Conflict::Rename).unwrap();
        assert_eq!(renamed[0].draft.name, "Scout (2)");
        assert_eq!(
            AgentDraft {
                name: "Scout".into(),
                ..renamed[0].draft.clone()
            },
            original.draft
        );
        assert_eq!(renamed[0].hooks, original.hooks);
        assert!(import(&conn, records.clone(), Conflict::Skip).unwrap().is_empty());
        let mut changed = records;
        changed[0].draft.model = "haiku".into();
        let replaced = import(&conn, changed, Conflict::Replace).unwrap();
        assert_eq!(
            (replaced[0].id, replaced[0].draft.model.as_str()),
            (original.id, "haiku")
        );
    }

    #[test]
    fn bad_files_say_why() {
        assert!(matches!(parse("not json"), Err(FileError::Json(_))));
        assert!(matches!(parse(r#"{"a":1}"#), Err(FileError::Unrecognized)));
        let future = r#"{"format":"anyon-agents","version":99,"exported_at":"x","agents":[]}"#;
        assert!(matches!(parse(future), Err(FileError::TooNew(99))));
    }
}
