-- Fewer pages written per dispense (SD-card wear, bench/RESULTS.md § wear): every b-tree a commit
-- touches is one more 4 KB page in the WAL, and again at the checkpoint.

-- Decisions stored by request_id alone: no rowid table beside the key's index. Pruning by age scans
-- the day of decisions kept instead of maintaining an index on decided_at at every answer.
CREATE TABLE auth_decisions_710 (
  request_id   TEXT PRIMARY KEY,
  dispenser_id TEXT,
  response     TEXT NOT NULL,     -- JSON AuthResponse as published
  decided_at   INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
INSERT INTO auth_decisions_710 (request_id, dispenser_id, response, decided_at)
  SELECT request_id, dispenser_id, response, decided_at FROM auth_decisions;
DROP TABLE auth_decisions;
ALTER TABLE auth_decisions_710 RENAME TO auth_decisions;

-- Sessions stored by session_id alone, and one small index of the unsettled ones (a handful at a
-- time) serving both the customer's holds and the dispenser's open session, instead of two.
CREATE TABLE sessions_710 (
  session_id      TEXT PRIMARY KEY,
  request_id      TEXT NOT NULL UNIQUE,
  dispenser_id    TEXT,
  account_id      TEXT NOT NULL,
  approved_ml     INTEGER NOT NULL,
  created_at      INTEGER NOT NULL,
  hold_expires_at INTEGER NOT NULL,
  settled_at      INTEGER,
  event_id        TEXT,
  delivered_ml    INTEGER
) STRICT, WITHOUT ROWID;
INSERT INTO sessions_710 (session_id, request_id, dispenser_id, account_id, approved_ml, created_at,
                          hold_expires_at, settled_at, event_id, delivered_ml)
  SELECT session_id, request_id, dispenser_id, account_id, approved_ml, created_at,
         hold_expires_at, settled_at, event_id, delivered_ml FROM sessions;
DROP TABLE sessions;
ALTER TABLE sessions_710 RENAME TO sessions;
CREATE INDEX sessions_unsettled ON sessions (hold_expires_at) WHERE settled_at IS NULL;
