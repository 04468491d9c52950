-- Customer replica: profile fields and balance exactly as the cloud last published them.
CREATE TABLE customers (
  account_id     TEXT PRIMARY KEY,
  phone          TEXT NOT NULL UNIQUE,
  name           TEXT NOT NULL,
  pin_hash       TEXT NOT NULL,
  status         TEXT NOT NULL CHECK (status IN ('active', 'inactive', 'suspended')),
  expires_at     INTEGER,
  daily_limit_ml INTEGER,
  allowed_kiosks TEXT,            -- JSON array, NULL = every kiosk
  balance_ml     INTEGER NOT NULL,
  locked_until   INTEGER,
  version        INTEGER NOT NULL
) STRICT;

-- Immutable ledger (ARCHITECTURE §3). acked_at is set once the cloud has the event.
CREATE TABLE ledger_events (
  seq          INTEGER PRIMARY KEY AUTOINCREMENT,
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
CREATE INDEX ledger_unacked ON ledger_events (seq) WHERE acked_at IS NULL;
CREATE INDEX ledger_account_time ON ledger_events (account_id, occurred_at);

CREATE TRIGGER ledger_events_immutable BEFORE UPDATE OF event_id, type, account_id, amount_ml, kiosk_id, dispenser_id, source_id, occurred_at, details ON ledger_events
BEGIN
  SELECT RAISE(ABORT, 'ledger events are immutable');
END;
CREATE TRIGGER ledger_events_no_delete BEFORE DELETE ON ledger_events
BEGIN
  SELECT RAISE(ABORT, 'ledger events are immutable');
END;

-- Every authorisation answer, so a repeated request_id gets the identical answer.
CREATE TABLE auth_decisions (
  request_id   TEXT PRIMARY KEY,
  dispenser_id TEXT,
  response     TEXT NOT NULL,     -- JSON AuthResponse as published
  decided_at   INTEGER NOT NULL
) STRICT;

-- Approved dispense sessions; an unsettled one inside its expiry is a hold.
CREATE TABLE sessions (
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
) STRICT;
CREATE INDEX sessions_open ON sessions (account_id, hold_expires_at) WHERE settled_at IS NULL;
CREATE INDEX sessions_open_dispenser ON sessions (dispenser_id, hold_expires_at) WHERE settled_at IS NULL;

CREATE TABLE dispensers (
  dispenser_id       TEXT PRIMARY KEY,
  kiosk_id           TEXT NOT NULL,
  secret_hash        TEXT NOT NULL,
  pulses_per_litre   INTEGER NOT NULL,
  presets_ml         TEXT NOT NULL,  -- JSON array
  max_ml             INTEGER NOT NULL,
  no_flow_timeout_ms INTEGER NOT NULL,
  enabled            INTEGER NOT NULL,
  online             INTEGER NOT NULL DEFAULT 0,
  firmware           TEXT,
  last_seen_at       INTEGER,
  last_heartbeat     TEXT             -- JSON Heartbeat
) STRICT;

CREATE TABLE pin_failures (
  account_id   TEXT PRIMARY KEY,
  failures     INTEGER NOT NULL,
  locked_until INTEGER,
  updated_at   INTEGER NOT NULL
) STRICT;

-- Small kiosk state values (e.g. last successful cloud contact).
CREATE TABLE settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;
