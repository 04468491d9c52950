-- Fewer pages written per dispense (SD-card wear, bench/RESULTS.md § wear), continued.

-- event_id was UNIQUE, an index of its own written at every event (1.5 pages a dispense with its
-- splits), and nothing looks an event up by it any more: acknowledgements are a watermark by seq
-- (713), a settled session is found by (type, source_id). Ids are UUIDv7 made here, or a keypad
-- token's id, redeemed once per token by token_redemptions. Rebuilt with every row, its seq, the
-- (type, source_id) rule, indexes and triggers as before.
CREATE TABLE ledger_events_714 (
  seq          INTEGER PRIMARY KEY,
  event_id     TEXT NOT NULL,
  type         TEXT NOT NULL,
  account_id   TEXT,
  amount_ml    INTEGER NOT NULL,
  kiosk_id     TEXT,
  dispenser_id TEXT,
  source_id    TEXT,
  occurred_at  INTEGER NOT NULL,
  details      TEXT,              -- JSON object
  UNIQUE (type, source_id)
) STRICT;
INSERT INTO ledger_events_714 (seq, event_id, type, account_id, amount_ml, kiosk_id, dispenser_id, source_id,
                               occurred_at, details)
  SELECT seq, event_id, type, account_id, amount_ml, kiosk_id, dispenser_id, source_id, occurred_at, details
  FROM ledger_events ORDER BY seq;
DROP TABLE ledger_events;
ALTER TABLE ledger_events_714 RENAME TO ledger_events;
CREATE INDEX ledger_account_time ON ledger_events (account_id, occurred_at);
CREATE INDEX ledger_time ON ledger_events (occurred_at, seq);
CREATE TRIGGER ledger_events_immutable BEFORE UPDATE ON ledger_events
BEGIN
  SELECT RAISE(ABORT, 'ledger events are immutable');
END;
CREATE TRIGGER ledger_events_no_delete BEFORE DELETE ON ledger_events
BEGIN
  SELECT RAISE(ABORT, 'ledger events are immutable');
END;
