-- The restore journal: a restore records itself here (in its own committed transaction) before it changes
-- any file, and marks itself done at the end. A row left 'running' by a process that died is an
-- interrupted restore: found at the next start and offered to finish (restore target_id again) or to roll
-- back (restore before_id, the "before restore" checkpoint it took). One row per project, the latest.
CREATE TABLE restore_journal (
    project_path TEXT    PRIMARY KEY NOT NULL,
    target_id    TEXT    NOT NULL,
    before_id    TEXT    NOT NULL,
    -- 'running', then 'done', 'finished' (completed by a recovery) or 'rolled_back'
    state        TEXT    NOT NULL CHECK (state IN ('running', 'done', 'finished', 'rolled_back')),
    started_at   TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ended_at     TEXT
) WITHOUT ROWID;
