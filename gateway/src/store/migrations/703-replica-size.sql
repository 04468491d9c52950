-- The replica's size, kept by triggers: a count(*) walks the whole phone table — about a second of
-- the event loop at a million customers — and /health, /api/sync and /metrics ask for it (issue 14).
-- A refetch's swap sets it to the size of the replica it built (sync/replica-rebuild.ts).
CREATE TABLE replica_size (
  id        INTEGER PRIMARY KEY CHECK (id = 1),
  customers INTEGER NOT NULL
) STRICT;
INSERT INTO replica_size SELECT 1, count(*) FROM customers;

CREATE TRIGGER customers_count_insert AFTER INSERT ON customers
BEGIN
  UPDATE replica_size SET customers = customers + 1 WHERE id = 1;
END;
CREATE TRIGGER customers_count_delete AFTER DELETE ON customers
BEGIN
  UPDATE replica_size SET customers = customers - 1 WHERE id = 1;
END;
