-- The first screen, kept in the database rather than in memory: each session's summary (what the
-- Projects screen lists, paged by query), each session's all-time usage (what `usage session` and the
-- Usage screen's sessions table show) and the rest of the first screen (projects and usage totals),
-- all rewritten in one transaction whenever the index changes, under the key they were built from.

CREATE TABLE IF NOT EXISTS history_sessions (
    folder      TEXT NOT NULL,
    session_id  TEXT NOT NULL,
    last_ms     INTEGER,
    -- What the session filter matches: the title and branch in lower case, the id and the models.
    filter      TEXT NOT NULL,
    -- The session's summary as JSON.
    summary     TEXT NOT NULL,
    PRIMARY KEY (folder, session_id)
) WITHOUT ROWID;

CREATE INDEX IF NOT EXISTS history_sessions_recent ON history_sessions (folder, last_ms DESC, session_id);

CREATE TABLE IF NOT EXISTS history_session_usage (
    -- The order of the usage report's sessions (most recent first).
    position    INTEGER PRIMARY KEY,
    -- The group as JSON.
    usage       TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS history_first_screen (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    -- What it was built from: the index's fingerprint, the prices, the zone.
    key         TEXT NOT NULL,
    -- The projects and the all-time report without its sessions, as JSON.
    head        TEXT NOT NULL
);
