-- Per-key limits (JSON object; missing or null fields use the global settings).
ALTER TABLE api_keys ADD COLUMN limits TEXT NOT NULL DEFAULT '{}';

-- Token and request usage, aggregated per key, model and UTC day (written in batches).
CREATE TABLE usage_daily (
  key_id     TEXT NOT NULL,
  day        TEXT NOT NULL,   -- YYYY-MM-DD, UTC
  model      TEXT NOT NULL,
  requests   INTEGER NOT NULL,
  tokens_in  INTEGER NOT NULL,
  tokens_out INTEGER NOT NULL,
  PRIMARY KEY (key_id, day, model)
);
