-- Bans: one row per client address that has been banned, kept after the ban ends so that a
-- repeat ban escalates and the address can be exported as an indicator of compromise.
-- `gatehouse bans remove` deletes the row (and so forgives the history).
CREATE TABLE bans (
  ip            TEXT PRIMARY KEY,  -- canonical IPv4 or IPv6 address
  banned_at     INTEGER NOT NULL,  -- start of the latest ban, epoch milliseconds
  banned_until  INTEGER,           -- end of the latest ban; NULL: until removed by hand
  times         INTEGER NOT NULL,  -- how many times the address was banned
  source        TEXT NOT NULL,     -- 'auto' or 'manual', for the latest ban
  reasons       TEXT NOT NULL,     -- JSON array of distinct reasons, oldest first, at most 10
  first_seen    INTEGER NOT NULL,  -- first request seen from the address
  last_seen     INTEGER NOT NULL,  -- latest request seen, refused ones included
  requests      INTEGER NOT NULL,  -- requests seen, refused ones included
  sample_paths  TEXT NOT NULL      -- JSON array of distinct request paths, at most 10
);

-- Bumped by every ban and unban (not by request counts), so a running gateway picks up
-- `gatehouse bans add|remove` from another process on its next request.
CREATE TABLE ban_version (
  id      INTEGER PRIMARY KEY CHECK (id = 1),
  version INTEGER NOT NULL
);
INSERT INTO ban_version (id, version) VALUES (1, 0);

-- Per-key network rules: a JSON array of CIDR ranges the key may be used from; NULL: anywhere.
ALTER TABLE api_keys ADD COLUMN networks TEXT;
