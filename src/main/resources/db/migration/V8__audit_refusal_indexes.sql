-- The status and reason indexes of the audit log (V4) hold refusals only (issue 12). Nearly every
-- row of a busy gateway is a served request (reason 'ok', status below 400), and each index cost
-- about 0.9 us per row copied, on the audit writer's thread: a share of every request's CPU. The
-- queries that need them look for refusals (`audit query --reason guard.blocked`, `--status 429`),
-- which a scan of the time index answers slowly when they are rare. A query for served rows is
-- answered by that scan, and finds its rows at once because they are most of the log.
-- SqliteStore.queryAudit adds the same conditions (status >= 400, reason <> 'ok') to a query
-- for a refusal's status or reason, so that SQLite uses these indexes.
--
-- The time index also holds seq, the query's tie-break (ORDER BY time DESC, seq DESC): a query
-- for served rows then reads it newest first and stops at its limit, where SQLite would otherwise
-- plan a scan of the whole table and a sort.
DROP INDEX audit_log_time;
CREATE INDEX audit_log_time ON audit_log (time, seq);
DROP INDEX audit_log_status;
DROP INDEX audit_log_reason;
CREATE INDEX audit_log_refused_status ON audit_log (status, time) WHERE status >= 400;
CREATE INDEX audit_log_refused_reason ON audit_log (reason, time) WHERE reason <> 'ok';
