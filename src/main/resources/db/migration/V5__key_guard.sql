-- The prompt guard's mode for one key (issue 15): off, log or block; NULL uses guard.mode.
ALTER TABLE api_keys ADD COLUMN guard TEXT;
