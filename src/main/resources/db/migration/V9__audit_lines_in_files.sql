-- The audit log's rows point at their lines in the JSONL files instead of holding a copy (issue
-- 12). A row the gateway writes into the database of its own data directory stores an empty
-- `line` and `line_at`, the byte offset of its line in the file that holds its seq (the sealed
-- segment `audit-<first seq>.jsonl`, or `audit.jsonl`); the store reads the line from there, so
-- every reader still gets the exact line the chain covers. The line was most of a row's bytes:
-- each was written to the WAL and again at each checkpoint, about half of the copy's CPU a row.
-- Rows written before this migration, and rows whose lines are elsewhere, keep their line
-- (`line_at` NULL).
--
-- `model`, `tokens_in` and `tokens_out` are the summaries' fields, read with json_extract from
-- rows that hold their line.
ALTER TABLE audit_log ADD COLUMN line_at INTEGER;
ALTER TABLE audit_log ADD COLUMN model TEXT;
ALTER TABLE audit_log ADD COLUMN tokens_in INTEGER;
ALTER TABLE audit_log ADD COLUMN tokens_out INTEGER;
