-- The index of Claude's transcripts (`$CLAUDE_CONFIG_DIR/projects`): what has been read of each file and
-- the facts taken from it. Rebuilt from the files at any time; nothing here is the only copy.

CREATE TABLE transcript_files (
    id            INTEGER PRIMARY KEY,
    -- Relative to projects/, with '/' separators.
    path          TEXT NOT NULL UNIQUE,
    project_dir   TEXT NOT NULL,
    -- The session the file's usage counts under (from its place in the tree).
    session_id    TEXT NOT NULL,
    subagent      INTEGER NOT NULL DEFAULT 0,
    size          INTEGER NOT NULL,
    mtime_ns      INTEGER NOT NULL,
    -- Bytes read so far: always the end of a complete line.
    parsed_offset INTEGER NOT NULL,
    -- Hash of the start of the file and of the bytes before parsed_offset: a rewritten file differs.
    checksum      BLOB,
    lines         INTEGER NOT NULL DEFAULT 0,
    malformed     INTEGER NOT NULL DEFAULT 0,
    -- The sessionId written in the lines (attaches old-style agent-*.jsonl files to their session).
    inner_session TEXT,
    cwd           TEXT,
    git_branch    TEXT,
    first_ms      INTEGER,
    last_ms       INTEGER,
    messages      INTEGER NOT NULL DEFAULT 0,
    first_prompt  TEXT,
    custom_title  TEXT,
    ai_title      TEXT,
    summary       TEXT,
    -- Distinct models, one per line.
    models        TEXT NOT NULL DEFAULT ''
);

CREATE INDEX transcript_files_project ON transcript_files(project_dir);

CREATE TABLE usage_records (
    file_id        INTEGER NOT NULL REFERENCES transcript_files(id) ON DELETE CASCADE,
    ts_ms          INTEGER NOT NULL,
    message_id     TEXT,
    request_id     TEXT,
    model          TEXT,
    input          INTEGER NOT NULL,
    output         INTEGER NOT NULL,
    cache_write_5m INTEGER NOT NULL,
    cache_write_1h INTEGER NOT NULL,
    cache_read     INTEGER NOT NULL,
    cost_usd       REAL,
    sidechain      INTEGER NOT NULL,
    fast           INTEGER NOT NULL
);

CREATE INDEX usage_records_file ON usage_records(file_id);

-- Projects the person added in ANYON before Claude ever ran there.
CREATE TABLE added_projects (
    path     TEXT PRIMARY KEY,
    added_ms INTEGER NOT NULL
);
