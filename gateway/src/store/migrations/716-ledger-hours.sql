-- The ledger read by time without an index on time (SD-card wear, bench/RESULTS.md § wear; 715 was
-- taken by a migration since reverted). ledger_time (occurred_at, seq) was written at every event,
-- a page of the WAL a dispense. Events come in the ledger's order with the kiosk's clock, so a
-- run of events in one hour is a run of seqs: ledger_hours marks where each run starts, one row an
-- hour (more only when the clock steps or an event carries another hour's time). Events of a time
-- range lie between the first mark of its hours and the mark after its last one.
CREATE TABLE ledger_hours (
  seq  INTEGER PRIMARY KEY,  -- the first event of a run
  hour INTEGER NOT NULL      -- occurred_at / 3,600,000 of every event of the run
) STRICT;
CREATE INDEX ledger_hours_by_hour ON ledger_hours (hour);
INSERT INTO ledger_hours (seq, hour)
  SELECT seq, hour FROM (
    SELECT seq, occurred_at / 3600000 AS hour, lag(occurred_at / 3600000) OVER (ORDER BY seq) AS previous
      FROM ledger_events)
   WHERE previous IS NULL OR previous <> hour;
CREATE TRIGGER ledger_hours_mark AFTER INSERT ON ledger_events
  WHEN NEW.occurred_at / 3600000 IS NOT (SELECT hour FROM ledger_hours ORDER BY seq DESC LIMIT 1)
BEGIN
  INSERT INTO ledger_hours (seq, hour) VALUES (NEW.seq, NEW.occurred_at / 3600000);
END;
DROP INDEX ledger_time;
