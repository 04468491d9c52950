-- A technician's unlock made while a refetch builds the new replica: the staged record may predate it,
-- so the swap clears the lockout again on the new replica unless the cloud's record there is newer
-- than the one unlocked (sync/sync-store.ts). Kept beside sync_refetch_balances, cleared with it.
CREATE TABLE sync_refetch_unlocks (
  account_id TEXT PRIMARY KEY,
  version    INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
