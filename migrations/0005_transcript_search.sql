-- Full-text search over the transcripts: one row per message side (the conversation's words, or its
-- tools' inputs and results), kept with the index. Like the rest of the index it is rebuilt from the
-- files at any time.

CREATE TABLE transcript_messages (
    id          INTEGER PRIMARY KEY,
    file_id     INTEGER NOT NULL REFERENCES transcript_files(id) ON DELETE CASCADE,
    -- The line's uuid, and the byte offset where the line starts: where a hit opens the session.
    uuid        TEXT,
    line_offset INTEGER NOT NULL,
    ts_ms       INTEGER,
    from_claude INTEGER NOT NULL,
    -- 1: a tool's input or result; 0: what the person typed or Claude answered.
    tool        INTEGER NOT NULL
);

CREATE INDEX transcript_messages_file ON transcript_messages(file_id);

-- The text itself; its rowid is transcript_messages.id.
CREATE VIRTUAL TABLE transcript_search USING fts5(body, tokenize = 'unicode61 remove_diacritics 2');

-- A file read again or gone takes its text with it (row by row through the rowid, never a scan).
CREATE TRIGGER transcript_messages_gone AFTER DELETE ON transcript_messages BEGIN
    DELETE FROM transcript_search WHERE rowid = old.id;
END;

-- Files indexed before search existed are read again by the next scan, so that every session is searchable.
DELETE FROM usage_records;
DELETE FROM transcript_files;
