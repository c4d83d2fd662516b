-- The audit log's shared copy (issue 16): every gateway appends its own hash chain, named by its
-- instance id (instance.id), so rows are keyed by (instance, seq). `line` is the record exactly
-- as written to that gateway's audit.jsonl, hash included; the other columns copy fields of it
-- for indexed queries, which span every instance. Text columns compare bytewise (COLLATE "C"),
-- as in SQLite: the time bounds are ISO-8601 prefixes, which a locale's collation may reorder.
-- Depends on no other migration's tables.
CREATE TABLE audit_log (
  instance   TEXT COLLATE "C" NOT NULL,
  seq        BIGINT NOT NULL,
  time       TEXT COLLATE "C" NOT NULL,
  request_id TEXT COLLATE "C" NOT NULL,
  ip         TEXT COLLATE "C" NOT NULL,
  key_id     TEXT COLLATE "C",
  status     INTEGER NOT NULL,
  reason     TEXT COLLATE "C" NOT NULL,
  line       TEXT NOT NULL,
  PRIMARY KEY (instance, seq)
);
CREATE INDEX audit_log_time ON audit_log (time);
CREATE INDEX audit_log_key ON audit_log (key_id, time);
CREATE INDEX audit_log_ip ON audit_log (ip, time);
CREATE INDEX audit_log_status ON audit_log (status, time);
CREATE INDEX audit_log_reason ON audit_log (reason, time);

-- Each instance's signed checkpoints and pruning anchors (anchor = true; seq is then the last
-- pruned record's), each line exactly as in that gateway's audit-checkpoints.jsonl, so that
-- `gatehouse audit verify` on any machine can check every chain against its own checkpoints.
-- A writer signs one checkpoint per seq and one anchor per pruning, so the key makes a copy
-- that is retried after a failure land once.
CREATE TABLE audit_checkpoints (
  instance TEXT COLLATE "C" NOT NULL,
  anchor   BOOLEAN NOT NULL,
  seq      BIGINT NOT NULL,
  line     TEXT NOT NULL,
  PRIMARY KEY (instance, anchor, seq)
);
