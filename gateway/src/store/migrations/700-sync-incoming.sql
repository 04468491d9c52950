-- A refetch, and so a gateway's first replica, is staged here: each pulled page appended (with
-- its cursor, in one transaction) in the order pulled, then the replica is replaced by it in one
-- transaction once the feed is exhausted (sync/sync-store.ts). Upserted page by page into the
-- replica instead, a million customers with random account ids and phones rewrote pages of both
-- of its indexes at every page: a minute of CPU and gigabytes through the SD card (issue 14 §4).
-- The columns are the replica's; records were validated as they arrived.
CREATE TABLE sync_incoming (
  account_id     TEXT NOT NULL,
  phone          TEXT NOT NULL,
  name           TEXT NOT NULL,
  pin_hash       TEXT NOT NULL,
  status         TEXT NOT NULL,
  expires_at     INTEGER,
  daily_limit_ml INTEGER,
  allowed_kiosks TEXT,
  balance_ml     INTEGER NOT NULL,
  locked_until   INTEGER,
  version        INTEGER NOT NULL,
  usage_day      TEXT,
  used_today_ml  INTEGER NOT NULL,
  token_key      TEXT,
  token_counter  INTEGER NOT NULL,
  tokens_void    TEXT NOT NULL
) STRICT;

-- Replaced by sync_incoming: a refetch in progress starts again from the start of the feed.
DROP TABLE sync_refetch_seen;
UPDATE sync_state SET cursor = NULL WHERE refetching = 1;
