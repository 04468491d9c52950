-- Fewer pages written per dispense (SD-card wear, bench/RESULTS.md § wear), continued.

-- A settled session was written twice (its row and the unsettled index at the approval, again at the
-- completion) into a table that only grew, keyed by random ids (a different leaf each time, and
-- splits), though its settlement is already the ledger's dispense event (source_id = session_id,
-- one per session by the (type, source_id) index; request_id, approved_ml and delivered_ml in its
-- details, written in the same transaction as the settlement). Only the unsettled sessions are
-- kept, expired ones too (a dispenser still reports after a power cut): a handful of rows in a page,
-- inserted at the approval; a settled one (with its dispense event) holds nothing and is deleted at
-- the next approval, in the page it writes anyway. No secondary index: scanning a handful of rows
-- costs less than writing an index page at each.
CREATE TABLE holds (
  session_id      TEXT PRIMARY KEY,
  request_id      TEXT NOT NULL,
  dispenser_id    TEXT,
  account_id      TEXT NOT NULL,
  approved_ml     INTEGER NOT NULL,
  created_at      INTEGER NOT NULL,
  hold_expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
INSERT INTO holds (session_id, request_id, dispenser_id, account_id, approved_ml, created_at, hold_expires_at)
  SELECT session_id, request_id, dispenser_id, account_id, approved_ml, created_at, hold_expires_at
  FROM sessions WHERE settled_at IS NULL;
DROP TABLE sessions;
