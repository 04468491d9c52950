-- Completions the gateway refused (no such session of that dispenser). Water may have flowed,
-- so each is kept for the technician; the dispenser stops sending it after the refusal.
CREATE TABLE refused_completions (
  dispenser_id TEXT NOT NULL,
  session_id   TEXT NOT NULL,
  request_id   TEXT NOT NULL,
  delivered_ml INTEGER NOT NULL,
  pulses       INTEGER NOT NULL,
  end_reason   TEXT NOT NULL,
  ended_at     INTEGER NOT NULL,
  reason       TEXT NOT NULL,        -- UNKNOWN_SESSION | SESSION_MISMATCH
  received_at  INTEGER NOT NULL,
  PRIMARY KEY (dispenser_id, session_id)
) STRICT;
