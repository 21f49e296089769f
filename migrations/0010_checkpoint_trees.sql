-- Checkpoints as content-addressed trees, as git stores them: a folder's sorted entries (name, kind,
-- mode, size, and the SHA-256 of the file's content or of the subfolder's tree) are encoded and stored
-- once under the SHA-256 of that encoding. A checkpoint records only its root tree, so one where nothing
-- changed adds no tree and one changed file adds the trees on its way up. Checkpoints taken before keep
-- their rows in `checkpoint_files` (root_tree is NULL) and are read from there.
CREATE TABLE checkpoint_trees (
    hash BLOB PRIMARY KEY,  -- SHA-256 of the encoding (32 bytes)
    body BLOB NOT NULL      -- the encoding, deflate-compressed
) WITHOUT ROWID;

ALTER TABLE checkpoints ADD COLUMN root_tree BLOB;

-- What a checkpoint last saw of each file (size, modification and change time, inode, content hash),
-- a row per folder so a checkpoint reads a few rows, not one per file. A cache only: deleting its rows
-- costs a slower next checkpoint, nothing else. It replaces the per-file cache.
CREATE TABLE checkpoint_stat_cache (
    project_path TEXT NOT NULL,
    folder       TEXT NOT NULL,  -- relative to the project, '/'-separated, '' for the project itself
    body         BLOB NOT NULL,
    PRIMARY KEY (project_path, folder)
) WITHOUT ROWID;

DROP TABLE checkpoint_file_cache;
