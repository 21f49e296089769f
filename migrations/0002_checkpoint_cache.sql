-- What a checkpoint last saw of each file, so an unchanged file (same size and modification time)
-- is not read again. A cache only: deleting its rows costs a slower next checkpoint, nothing else.
CREATE TABLE checkpoint_file_cache (
    project_path TEXT    NOT NULL,
    path         TEXT    NOT NULL,
    size         INTEGER NOT NULL,
    mtime_ns     INTEGER NOT NULL,
    content_hash TEXT    NOT NULL,
    PRIMARY KEY (project_path, path)
) WITHOUT ROWID;
