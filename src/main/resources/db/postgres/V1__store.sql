-- The PostgreSQL store (store.kind: postgres): keys, bans, usage and admin credentials, the same
-- tables and columns as the SQLite store's migrations V1-V7 (db/migration), in one step. Times are
-- epoch milliseconds (BIGINT) and lists JSON text, as there, so both stores read rows alike.
-- V2 is the audit log's (PostgresAuditStore).

-- API keys: only a keyed hash of each secret is stored.
CREATE TABLE api_keys (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  hash        BYTEA NOT NULL,
  scopes      TEXT NOT NULL,            -- JSON array of scope names
  models      TEXT NOT NULL,            -- JSON array of glob patterns; [] allows every model
  created_at  BIGINT NOT NULL,          -- epoch milliseconds
  expires_at  BIGINT,
  revoked_at  BIGINT,
  rotated_to  TEXT,
  limits      TEXT NOT NULL DEFAULT '{}', -- JSON object; missing or null fields use the settings
  networks    TEXT,                     -- JSON array of CIDR ranges; NULL: anywhere
  guard       TEXT                      -- the prompt guard's mode for this key; NULL: guard.mode
);

-- Bumped by every change to api_keys in the same transaction, which also sends NOTIFY
-- gatehouse_changes: running gateways reload on the notification, and compare this version on
-- their once-a-second check for a change they did not hear of. Writers of keys take this row's
-- lock first, so they are serialised.
CREATE TABLE key_version (
  id      INTEGER PRIMARY KEY CHECK (id = 1),
  version BIGINT NOT NULL
);
INSERT INTO key_version (id, version) VALUES (1, 0);

-- Token and request usage, aggregated per key, model and UTC day. Every gateway adds its
-- increments with INSERT ... ON CONFLICT DO UPDATE SET x = x + excluded.x, which is atomic.
CREATE TABLE usage_daily (
  key_id     TEXT NOT NULL,
  day        TEXT NOT NULL,   -- YYYY-MM-DD, UTC
  model      TEXT NOT NULL,
  requests   BIGINT NOT NULL,
  tokens_in  BIGINT NOT NULL,
  tokens_out BIGINT NOT NULL,
  PRIMARY KEY (key_id, day, model)
);
CREATE INDEX usage_daily_day ON usage_daily (day);

-- Bans: one row per client address that has been banned, kept after the ban ends so that a
-- repeat ban escalates. `gatehouse bans remove` deletes the row.
CREATE TABLE bans (
  ip            TEXT PRIMARY KEY,  -- canonical IPv4 or IPv6 address
  banned_at     BIGINT NOT NULL,   -- start of the latest ban, epoch milliseconds
  banned_until  BIGINT,            -- end of the latest ban; NULL: until removed by hand
  times         INTEGER NOT NULL,  -- how many times the address was banned
  source        TEXT NOT NULL,     -- 'auto' or 'manual', for the latest ban
  reasons       TEXT NOT NULL,     -- JSON array of distinct reasons, oldest first, at most 10
  first_seen    BIGINT NOT NULL,
  last_seen     BIGINT NOT NULL,
  requests      BIGINT NOT NULL,
  sample_paths  TEXT NOT NULL      -- JSON array of distinct request paths, at most 10
);

-- Bumped (and notified) by every ban and unban, not by request counts; as key_version.
CREATE TABLE ban_version (
  id      INTEGER PRIMARY KEY CHECK (id = 1),
  version BIGINT NOT NULL
);
INSERT INTO ban_version (id, version) VALUES (1, 0);

-- Admin credentials: who may use the admin listener. Only a keyed hash of each token.
CREATE TABLE admin_credentials (
  id           TEXT PRIMARY KEY,
  name         TEXT NOT NULL,
  role         TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
  hash         BYTEA NOT NULL,
  created_at   BIGINT NOT NULL,
  revoked_at   BIGINT,
  last_used_at BIGINT
);

-- A second factor (TOTP) for dashboard logins: the secret encrypted with AES-256-GCM under a key
-- derived from the server secret (outside the database); recovery codes as keyed hashes.
CREATE TABLE admin_totp (
  credential_id TEXT PRIMARY KEY REFERENCES admin_credentials (id),
  secret        BYTEA NOT NULL,
  created_at    BIGINT NOT NULL,
  confirmed_at  BIGINT,           -- NULL while the enrolment waits for its first code
  last_step     BIGINT            -- the last time step accepted (a code is never accepted twice)
);

CREATE TABLE admin_recovery_codes (
  credential_id TEXT NOT NULL REFERENCES admin_credentials (id),
  hash          BYTEA NOT NULL,
  used_at       BIGINT,           -- NULL until used; a code works once
  PRIMARY KEY (credential_id, hash)
);
