-- Keypad tokens (ARCHITECTURE §5a). From the customer record: the customer's token key (a secret,
-- never shown to technicians), the highest counter the cloud had issued (those top-ups are in
-- balance_ml) and the voided counters (JSON array).
ALTER TABLE customers ADD COLUMN token_key TEXT;
ALTER TABLE customers ADD COLUMN token_counter INTEGER NOT NULL DEFAULT 0;
ALTER TABLE customers ADD COLUMN tokens_void TEXT NOT NULL DEFAULT '[]';

-- Tokens this kiosk redeemed: each counter once. The credit is the ledger's topup under event_id.
CREATE TABLE token_redemptions (
  account_id   TEXT NOT NULL,
  counter      INTEGER NOT NULL,
  event_id     TEXT NOT NULL UNIQUE,
  request_id   TEXT NOT NULL,
  dispenser_id TEXT,
  redeemed_at  INTEGER NOT NULL,
  PRIMARY KEY (account_id, counter)
) STRICT;

-- Wrong tokens in a row, per customer ('account:<id>') and per dispenser ('dispenser:<id>').
CREATE TABLE token_failures (
  scope        TEXT PRIMARY KEY,
  failures     INTEGER NOT NULL,
  locked_until INTEGER,
  updated_at   INTEGER NOT NULL
) STRICT;
