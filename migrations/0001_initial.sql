-- ANYON's first schema: agents and their runs, app settings, and checkpoints.
-- Append-only: later changes go into new files (0002_..., 0003_...), never edits here.

CREATE TABLE agents (
    id                INTEGER PRIMARY KEY,
    name              TEXT    NOT NULL UNIQUE CHECK (length(trim(name)) > 0),
    icon              TEXT    NOT NULL DEFAULT 'bot',
    system_prompt     TEXT    NOT NULL DEFAULT '',
    -- 'append' adds the system prompt to Claude's own; 'replace' swaps it.
    system_prompt_mode TEXT   NOT NULL DEFAULT 'append' CHECK (system_prompt_mode IN ('append', 'replace')),
    default_task      TEXT,
    model             TEXT    NOT NULL DEFAULT 'sonnet',
    permission_mode   TEXT    NOT NULL DEFAULT 'default',
    -- JSON arrays of tool rules, passed to --allowedTools / --disallowedTools.
    allowed_tools     TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(allowed_tools)),
    disallowed_tools  TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(disallowed_tools)),
    -- JSON object in Claude's settings "hooks" shape, or NULL.
    hooks             TEXT             CHECK (hooks IS NULL OR json_valid(hooks)),
    -- Fields this version does not know (from imports or newer versions), kept verbatim.
    extra             TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(extra)),
    created_at        TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at        TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE agent_runs (
    id                    INTEGER PRIMARY KEY,
    agent_id              INTEGER REFERENCES agents(id) ON DELETE SET NULL,
    -- Copied at start so history stays readable after the agent is edited or deleted.
    agent_name            TEXT    NOT NULL,
    agent_icon            TEXT    NOT NULL DEFAULT 'bot',
    task                  TEXT    NOT NULL,
    model                 TEXT    NOT NULL,
    project_path          TEXT    NOT NULL,
    session_id            TEXT,
    status                TEXT    NOT NULL DEFAULT 'pending'
                          CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled', 'interrupted')),
    pid                   INTEGER,
    exit_code             INTEGER,
    error                 TEXT,
    started_at            TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    finished_at           TEXT,
    duration_ms           INTEGER,
    num_turns             INTEGER,
    input_tokens          INTEGER NOT NULL DEFAULT 0,
    output_tokens         INTEGER NOT NULL DEFAULT 0,
    cache_creation_tokens INTEGER NOT NULL DEFAULT 0,
    cache_read_tokens     INTEGER NOT NULL DEFAULT 0,
    total_cost_usd        REAL
);
CREATE INDEX agent_runs_agent_started ON agent_runs(agent_id, started_at DESC);
CREATE INDEX agent_runs_status ON agent_runs(status);

CREATE TABLE app_settings (
    key        TEXT PRIMARY KEY NOT NULL,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE checkpoints (
    id            TEXT    PRIMARY KEY NOT NULL,
    session_id    TEXT    NOT NULL,
    project_path  TEXT    NOT NULL,
    parent_id     TEXT    REFERENCES checkpoints(id) ON DELETE SET NULL,
    message_index INTEGER NOT NULL DEFAULT 0,
    -- 'manual', 'before_prompt', 'before_tool', 'before_restore', 'fork'
    trigger_kind  TEXT    NOT NULL DEFAULT 'manual',
    description   TEXT,
    files_changed INTEGER NOT NULL DEFAULT 0,
    lines_added   INTEGER NOT NULL DEFAULT 0,
    lines_removed INTEGER NOT NULL DEFAULT 0,
    total_bytes   INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX checkpoints_session ON checkpoints(session_id, created_at);
CREATE INDEX checkpoints_project ON checkpoints(project_path);

CREATE TABLE checkpoint_files (
    checkpoint_id TEXT    NOT NULL REFERENCES checkpoints(id) ON DELETE CASCADE,
    path          TEXT    NOT NULL,
    -- Hex SHA-256 of the content; NULL for a deleted file.
    content_hash  TEXT,
    size          INTEGER NOT NULL DEFAULT 0,
    mode          INTEGER NOT NULL DEFAULT 420,
    is_deleted    INTEGER NOT NULL DEFAULT 0 CHECK (is_deleted IN (0, 1)),
    PRIMARY KEY (checkpoint_id, path)
) WITHOUT ROWID;
CREATE INDEX checkpoint_files_hash ON checkpoint_files(content_hash);
