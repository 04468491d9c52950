-- Fewer pages written per dispense (SD-card wear, bench/RESULTS.md § wear), continued.

-- The (account_id, occurred_at) index was written at every event, at a random leaf (a page in the
-- WAL and another at the checkpoint). A customer's events are looked up only among the few the
-- cloud does not hold yet (above the watermark, a rowid range, or refused: by seq, below) and
-- among today's (by time, ledger_time).
DROP INDEX ledger_account_time;
-- A refused event found by its seq, a rowid lookup: the ledger has no index by event_id (714).
ALTER TABLE sync_rejected_events ADD COLUMN seq INTEGER;
UPDATE sync_rejected_events SET seq = (SELECT e.seq FROM ledger_events e WHERE e.event_id = sync_rejected_events.event_id);
