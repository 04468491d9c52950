-- Sync worker state (gateway/src/sync). One row: where the pull stopped and when the
-- cloud was last reached. Written in the same transaction as the page it describes.
CREATE TABLE sync_state (
  id           INTEGER PRIMARY KEY CHECK (id = 1),
  cursor       TEXT,              -- opaque pull cursor; NULL = start of the customer feed
  refetching   INTEGER NOT NULL DEFAULT 0, -- 1 while a must_refetch re-pull is in progress
  last_pull_at INTEGER,
  last_push_at INTEGER
) STRICT;
-- The first full pull runs as a refetch, so the replica ends as exactly what the cloud
-- publishes (customers seeded locally for a demo do not linger).
INSERT INTO sync_state (id, refetching) VALUES (1, 1);

-- Accounts seen during a must_refetch re-pull; the rest are dropped when it completes.
CREATE TABLE sync_refetch_seen (
  account_id TEXT PRIMARY KEY
) STRICT, WITHOUT ROWID;

-- Events the cloud refused: kept out of later batches and shown to operators.
CREATE TABLE sync_rejected_events (
  event_id    TEXT PRIMARY KEY,
  code        TEXT NOT NULL,
  message     TEXT NOT NULL,
  rejected_at INTEGER NOT NULL
) STRICT;
