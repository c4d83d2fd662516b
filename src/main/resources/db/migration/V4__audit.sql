-- The audit log (issue 4): one row per request, in insertion order (id). `line` is the record
-- exactly as written to audit.jsonl, hash included; the other columns copy fields of it for
-- indexed queries. `seq` is not unique on purpose: verify must see a duplicated record, not have
-- the database refuse it.
CREATE TABLE audit_log (
  id         INTEGER PRIMARY KEY,
  seq        INTEGER NOT NULL,
  time       TEXT NOT NULL,
  request_id TEXT NOT NULL,
  ip         TEXT NOT NULL,
  key_id     TEXT,
  status     INTEGER NOT NULL,
  reason     TEXT NOT NULL,
  line       TEXT NOT NULL
);
CREATE INDEX audit_log_seq ON audit_log (seq);
CREATE INDEX audit_log_time ON audit_log (time);
CREATE INDEX audit_log_key ON audit_log (key_id, time);
CREATE INDEX audit_log_ip ON audit_log (ip, time);
CREATE INDEX audit_log_status ON audit_log (status, time);
CREATE INDEX audit_log_reason ON audit_log (reason, time);
