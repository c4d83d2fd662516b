-- Admin credentials (issue 13): who may use the admin listener. Only a keyed hash of each token
-- is stored, as for API keys; a separate table, so a client key can never be one.
CREATE TABLE admin_credentials (
  id           TEXT PRIMARY KEY,
  name         TEXT NOT NULL,
  role         TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
  hash         BLOB NOT NULL,
  created_at   INTEGER NOT NULL, -- epoch milliseconds
  revoked_at   INTEGER,
  last_used_at INTEGER
);
