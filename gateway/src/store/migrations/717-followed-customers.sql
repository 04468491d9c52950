-- The customers whose balances this kiosk follows (ARCHITECTURE §7, "A kiosk's SD card and the
-- fleet's changes", option 1): its own, who drew water or redeemed a token here lately. Anyone
-- else's change that moves only a balance is not written to the replica (each would be a page of
-- the WAL and a 4 KB block of the card, ~7 GB a day at 600 kiosks); their balance is asked of
-- the cloud, or, offline, bounded by the offline daily limit. Small and keyed by account: a refetch
-- that rebuilds the replica leaves it alone.
CREATE TABLE followed_customers (
  account_id TEXT PRIMARY KEY,
  until      INTEGER NOT NULL  -- ms; followed while the kiosk's time is before it
) STRICT, WITHOUT ROWID;
-- An existing kiosk follows whom its ledger saw, for 30 days after (the setting's default) from then.
INSERT INTO followed_customers (account_id, until)
  SELECT account_id, max(occurred_at) + 30 * 86400000 FROM ledger_events
   WHERE account_id IS NOT NULL GROUP BY account_id;
