//! The migration runner: `migrations/NNNN_name.sql`, embedded in the binary, applied in order.
//! Progress lives in `PRAGMA user_version` (the number of migrations applied).

use std::path::Path;

use rusqlite::Connection;

use super::DbError;

/// One schema step.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// The file name, for messages.
    pub name: &'static str,
    /// The SQL, run as one batch inside a transaction.
    pub sql: &'static str,
}

/// Every migration, in order. Append only: a shipped migration never changes.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        name: "0001_initial.sql",
        sql: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/0001_initial.sql")),
    },
    Migration {
        name: "0002_checkpoint_cache.sql",
        sql: include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/migrations/0002_checkpoint_cache.sql"
        )),
    },
    Migration {
        name: "0003_transcript_index.sql",
        sql: include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/migrations/0003_transcript_index.sql"
        )),
    },
    Migration {
        name: "0004_auth.sql",
        sql: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/0004_auth.sql")),
    },
    Migration {
        name: "0005_transcript_search.sql",
        sql: include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/migrations/0005_transcript_search.sql"
        )),
    },
    Migration {
        name: "0006_restore_journal.sql",
        sql: include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/migrations/0006_restore_journal.sql"
        )),
    },
    Migration {
        name: "0007_search_catch_up.sql",
        sql: include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/migrations/0007_search_catch_up.sql"
        )),
    },
    Migration {
        name: "0009_session_list.sql",
        sql: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/0009_session_list.sql")),
    },
    Migration {
        name: "0010_checkpoint_trees.sql",
        sql: include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/migrations/0010_checkpoint_trees.sql"
        )),
    },
];

/// The schema version this build creates.
pub fn latest_version() -> i64 {
    MIGRATIONS.len() as i64
}

/// Applies the migrations the database lacks. A database from a newer build is refused untouched.
pub fn migrate(conn: &mut Connection, path: &Path) -> Result<(), DbError> {
    let current: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let supported = latest_version();
    if current > supported {
        return Err(DbError::TooNew {
            path: path.to_path_buf(),
            found: current,
            supported,
        });
    }
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(current.max(0) as usize) {
        let version = index as i64 + 1;
        let tx = conn.transaction()?;
        tx.execute_batch(migration.sql).map_err(|source| DbError::Migration {
            name: migration.name,
            source,
        })?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
        tracing::info!(migration = migration.name, version, "applied database migration");
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn table_names(conn: &Connection) -> Vec<String> {
        let mut stmt = conn
            .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
            .unwrap();
        stmt.query_map([], |row| row.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    #[test]
    fn every_migration_applies_to_an_empty_database_and_again_is_a_no_op() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "foreign_keys", true).unwrap();
        migrate(&mut conn, Path::new(":memory:")).unwrap();
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(version, latest_version());
        let tables = table_names(&conn);
        for expected in [
            "agent_runs",
            "agents",
            "app_settings",
            "checkpoint_files",
            "checkpoints",
        ] {
            assert!(
                tables.contains(&expected.to_string()),
                "missing {expected} in {tables:?}"
            );
        }
        let schema_before: Vec<String> = conn
            .prepare("SELECT sql FROM sqlite_schema ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get::<_, Option<String>>(0))
            .unwrap()
            .map(|r| r.unwrap().unwrap_or_default())
            .collect();
        migrate(&mut conn, Path::new(":memory:")).unwrap();
        let schema_after: Vec<String> = conn
            .prepare("SELECT sql FROM sqlite_schema ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get::<_, Option<String>>(0))
            .unwrap()
            .map(|r| r.unwrap().unwrap_or_default())
            .collect();
        assert_eq!(schema_before, schema_after);
        let problems: i64 = conn
            .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(problems, 0);
    }

    #[test]
    fn foreign_keys_and_checks_hold() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "foreign_keys", true).unwrap();
        migrate(&mut conn, Path::new(":memory:")).unwrap();
        let orphan = conn.execute(
            "INSERT INTO checkpoint_files (checkpoint_id, path, content_hash, size) VALUES ('nope', 'a', 'h', 1)",
            [],
        );
        assert!(orphan.is_err(), "a file row without its checkpoint must be refused");
        let bad_status = conn.execute(
            "INSERT INTO agent_runs (agent_name, task, model, project_path, status) VALUES ('a', 't', 'm', '/p', 'weird')",
            [],
        );
        assert!(bad_status.is_err(), "an unknown run status must be refused");
        conn.execute("INSERT INTO agents (name) VALUES ('reviewer')", [])
            .unwrap();
        conn.execute(
            "INSERT INTO agent_runs (agent_id, agent_name, task, model, project_path) VALUES (1, 'reviewer', 't', 'sonnet', '/p')",
            [],
        )
        .unwrap();
        conn.execute("DELETE FROM agents WHERE id = 1", []).unwrap();
        let kept: (Option<i64>, String) = conn
            .query_row("SELECT agent_id, agent_name FROM agent_runs", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!(kept, (None, "reviewer".to_string()), "history outlives its agent");
    }

    #[test]
    fn a_newer_database_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", latest_version() + 3).unwrap();
        let error = migrate(&mut conn, Path::new("future.db")).unwrap_err();
        assert!(matches!(error, DbError::TooNew { found, .. } if found == latest_version() + 3));
        assert!(error.to_string().contains("newer than this build"));
        assert!(
            table_names(&conn).is_empty(),
            "nothing may be created in a newer database"
        );
    }
}
