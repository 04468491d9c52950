-- Fewer pages written per dispense (SD-card wear, bench/RESULTS.md § wear), continued.

-- AUTOINCREMENT rewrote the sqlite_sequence page at every event. Ledger events are never deleted
-- (ledger_events_no_delete), so a plain INTEGER PRIMARY KEY hands out the same next seq. Rebuilt
-- with every row, its seq, its constraints, indexes and triggers as before.
CREATE TABLE ledger_events_711 (
  seq          INTEGER PRIMARY KEY,
  event_id     TEXT NOT NULL UNIQUE,
  type         TEXT NOT NULL,
  account_id   TEXT,
  amount_ml    INTEGER NOT NULL,
  kiosk_id     TEXT,
  dispenser_id TEXT,
  source_id    TEXT,
  occurred_at  INTEGER NOT NULL,
  details      TEXT,              -- JSON object
  acked_at     INTEGER,
  UNIQUE (type, source_id)
) STRICT;
INSERT INTO ledger_events_711 (seq, event_id, type, account_id, amount_ml, kiosk_id, dispenser_id, source_id,
                               occurred_at, details, acked_at)
  SELECT seq, event_id, type, account_id, amount_ml, kiosk_id, dispenser_id, source_id, occurred_at, details, acked_at
  FROM ledger_events ORDER BY seq;
DROP TABLE ledger_events;
ALTER TABLE ledger_events_711 RENAME TO ledger_events;
DELETE FROM sqlite_sequence WHERE name IN ('ledger_events', 'ledger_events_711');
CREATE INDEX ledger_unacked ON ledger_events (seq) WHERE acked_at IS NULL;
CREATE INDEX ledger_account_time ON ledger_events (account_id, occurred_at);
CREATE INDEX ledger_time ON ledger_events (occurred_at, seq);
CREATE TRIGGER ledger_events_immutable BEFORE UPDATE OF event_id, type, account_id, amount_ml, kiosk_id, dispenser_id, source_id, occurred_at, details ON ledger_events
BEGIN
  SELECT RAISE(ABORT, 'ledger events are immutable');
END;
CREATE TRIGGER ledger_events_no_delete BEFORE DELETE ON ledger_events
BEGIN
  SELECT RAISE(ABORT, 'ledger events are immutable');
END;

-- A session's request_id was also a unique index (a page per approval): the decision stored under
-- the same request_id in the same transaction already makes it one session per request.
CREATE TABLE sessions_711 (
  session_id      TEXT PRIMARY KEY,
  request_id      TEXT NOT NULL,
  dispenser_id    TEXT,
  account_id      TEXT NOT NULL,
  approved_ml     INTEGER NOT NULL,
  created_at      INTEGER NOT NULL,
  hold_expires_at INTEGER NOT NULL,
  settled_at      INTEGER,
  event_id        TEXT,
  delivered_ml    INTEGER
) STRICT, WITHOUT ROWID;
INSERT INTO sessions_711 SELECT session_id, request_id, dispenser_id, account_id, approved_ml, created_at,
                                hold_expires_at, settled_at, event_id, delivered_ml FROM sessions;
DROP TABLE sessions;
ALTER TABLE sessions_711 RENAME TO sessions;
CREATE INDEX sessions_unsettled ON sessions (hold_expires_at) WHERE settled_at IS NULL;
