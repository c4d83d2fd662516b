-- A second factor (TOTP, RFC 6238) for dashboard logins of an admin credential (issue 14).
-- The TOTP secret must be usable to check codes, so it cannot be a hash: it is stored encrypted
-- with AES-256-GCM under a key derived from the server secret (server.secret, outside the
-- database), bound to its credential id. Recovery codes are stored only as keyed hashes.
CREATE TABLE admin_totp (
  credential_id TEXT PRIMARY KEY REFERENCES admin_credentials (id),
  secret        BLOB NOT NULL,    -- 12-byte nonce, then the AES-GCM ciphertext and tag
  created_at    INTEGER NOT NULL, -- epoch milliseconds: when this enrolment started
  confirmed_at  INTEGER,          -- NULL while the enrolment waits for its first code
  last_step     INTEGER           -- the last time step accepted (a code is never accepted twice)
);

CREATE TABLE admin_recovery_codes (
  credential_id TEXT NOT NULL REFERENCES admin_credentials (id),
  hash          BLOB NOT NULL,    -- HMAC-SHA256 of the code under a key derived from the server secret
  used_at       INTEGER,          -- NULL until used; a code works once
  PRIMARY KEY (credential_id, hash)
);
