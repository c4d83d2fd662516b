-- API keys: only a keyed hash of each secret is stored.
CREATE TABLE api_keys (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  hash        BLOB NOT NULL,
  scopes      TEXT NOT NULL,  -- JSON array of scope names
  models      TEXT NOT NULL,  -- JSON array of glob patterns; [] allows every model
  created_at  INTEGER NOT NULL, -- epoch milliseconds
  expires_at  INTEGER,
  revoked_at  INTEGER,
  rotated_to  TEXT
);

-- Bumped by every change to api_keys, so a running gateway notices changes made by the CLI.
CREATE TABLE key_version (
  id      INTEGER PRIMARY KEY CHECK (id = 1),
  version INTEGER NOT NULL
);
INSERT INTO key_version (id, version) VALUES (1, 0);
