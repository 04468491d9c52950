-- Technician accounts for the kiosk web UI. Passwords as PHC scrypt strings, never in clear.
CREATE TABLE technicians (
  technician_id   TEXT PRIMARY KEY,
  username        TEXT NOT NULL UNIQUE,
  password_hash   TEXT NOT NULL,
  failed_attempts INTEGER NOT NULL DEFAULT 0,
  locked_until    INTEGER,
  created_at      INTEGER NOT NULL
) STRICT;

-- Signed-in sessions. Only the SHA-256 of the cookie value is kept, so a copy of the
-- database does not let anyone sign in.
CREATE TABLE technician_sessions (
  token_hash    TEXT PRIMARY KEY,
  technician_id TEXT NOT NULL REFERENCES technicians (technician_id) ON DELETE CASCADE,
  created_at    INTEGER NOT NULL,
  expires_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX technician_sessions_expiry ON technician_sessions (expires_at);

-- What technicians changed, who and why (unlocks, calibrations, valve tests, sign-ins).
CREATE TABLE technician_audit (
  audit_id      TEXT PRIMARY KEY,
  technician_id TEXT,
  action        TEXT NOT NULL,
  target        TEXT,
  reason        TEXT,
  details       TEXT,              -- JSON object
  occurred_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX technician_audit_time ON technician_audit (occurred_at);
