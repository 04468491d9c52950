-- A refetch builds the new replica beside the old one in short slices and swaps them by renaming
-- (sync/replica-rebuild.ts), so the gateway's event loop is never held for the whole table (issue 14:
-- replacing a million customers in one transaction held it ~35 s). Every b-tree of the new replica
-- must then be filled in its own key order (random inserts rewrite index pages at every slice:
-- gigabytes of WAL), which two unique keys in one table cannot do: the replica keeps its account key
-- (rows and key appended in account order by a rebuild), and the phone lookup is a table of its own
-- kept in step by triggers. (Not WITHOUT ROWID: with 1 KB pages a row of ~250 bytes would overflow.)
CREATE TABLE customers_701 (
  account_id     TEXT PRIMARY KEY,
  phone          TEXT NOT NULL,
  name           TEXT NOT NULL,
  pin_hash       TEXT NOT NULL,
  status         TEXT NOT NULL CHECK (status IN ('active', 'inactive', 'suspended')),
  expires_at     INTEGER,
  daily_limit_ml INTEGER,
  allowed_kiosks TEXT,            -- JSON array, NULL = every kiosk
  balance_ml     INTEGER NOT NULL,
  locked_until   INTEGER,
  version        INTEGER NOT NULL,
  usage_day      TEXT,
  used_today_ml  INTEGER NOT NULL DEFAULT 0,
  token_key      TEXT,
  token_counter  INTEGER NOT NULL DEFAULT 0,
  tokens_void    TEXT NOT NULL DEFAULT '[]'
) STRICT;
INSERT INTO customers_701 SELECT account_id, phone, name, pin_hash, status, expires_at, daily_limit_ml, allowed_kiosks,
    balance_ml, locked_until, version, usage_day, used_today_ml, token_key, token_counter, tokens_void
  FROM customers ORDER BY account_id;

-- The phone index: one holder per number (as customers.phone was UNIQUE).
CREATE TABLE customer_phones (
  phone      TEXT PRIMARY KEY,
  account_id TEXT NOT NULL
) STRICT, WITHOUT ROWID;
INSERT INTO customer_phones SELECT phone, account_id FROM customers ORDER BY phone;

DROP TABLE customers;
ALTER TABLE customers_701 RENAME TO customers;

CREATE TRIGGER customers_phone_insert AFTER INSERT ON customers
BEGIN
  INSERT INTO customer_phones (phone, account_id) VALUES (NEW.phone, NEW.account_id);
END;
CREATE TRIGGER customers_phone_update AFTER UPDATE OF phone ON customers WHEN NEW.phone IS NOT OLD.phone
BEGIN
  DELETE FROM customer_phones WHERE phone = OLD.phone;
  INSERT INTO customer_phones (phone, account_id) VALUES (NEW.phone, NEW.account_id);
END;
CREATE TRIGGER customers_phone_delete AFTER DELETE ON customers
BEGIN
  DELETE FROM customer_phones WHERE phone = OLD.phone;
END;

-- The last staged row of a refetch whose feed is exhausted: rows up to it are being built into the
-- new replica; rows after it (pulled meanwhile) are applied at the swap. NULL while staging.
ALTER TABLE sync_state ADD COLUMN refetch_boundary INTEGER;

-- Balances from push answers during a refetch: the staged records may be older than the
-- acknowledgements already applied, so these are applied again to the new replica at the swap.
CREATE TABLE sync_refetch_balances (
  account_id    TEXT PRIMARY KEY,
  balance_ml    INTEGER NOT NULL,
  version       INTEGER NOT NULL,
  has_usage     INTEGER NOT NULL,
  usage_day     TEXT,
  used_today_ml INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- Sorted runs of the rebuild's external merge sort: each slice of keys sorted and appended as a run.
CREATE TABLE sync_runs (
  run         INTEGER NOT NULL,
  key         TEXT NOT NULL,
  neg_version INTEGER NOT NULL,
  ref         ANY NOT NULL,
  PRIMARY KEY (run, key, neg_version, ref)
) STRICT, WITHOUT ROWID;
