-- The usage index reads new transcript lines without their text, so that a first start counts usage
-- quickly; the search index reads the same lines for their words afterwards. `searched_offset` is how
-- far it has: files indexed so far were read for both at once.

ALTER TABLE transcript_files ADD COLUMN searched_offset INTEGER NOT NULL DEFAULT 0;
UPDATE transcript_files SET searched_offset = parsed_offset;
