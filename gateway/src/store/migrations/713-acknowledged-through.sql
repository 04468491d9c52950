-- The cloud's acknowledgement kept as a watermark (SD-card wear, bench/RESULTS.md § wear): every
-- event up to ledger_acked.seq is in the cloud, except the ones it refused (sync_rejected_events).
-- Setting acked_at and keeping an index of the unacknowledged events wrote two more pages an event
-- at the acknowledgement and one more at its commit; the watermark is one row. Pushes send events
-- in seq order and the cloud answers for every event of a batch, so what it holds is a prefix.
CREATE TABLE ledger_acked (
  id  INTEGER PRIMARY KEY CHECK (id = 1),
  seq INTEGER NOT NULL
) STRICT;
-- Up to the first event neither acknowledged nor refused. An acknowledged event above it counts as
-- unacknowledged until pushed again; the cloud, which merges by event id, acknowledges it again.
INSERT INTO ledger_acked (id, seq) VALUES (1, coalesce(
  (SELECT min(seq) - 1 FROM ledger_events e
    WHERE acked_at IS NULL AND NOT EXISTS (SELECT 1 FROM sync_rejected_events r WHERE r.event_id = e.event_id)),
  (SELECT max(seq) FROM ledger_events),
  0));
DROP INDEX ledger_unacked;
ALTER TABLE ledger_events DROP COLUMN acked_at;
