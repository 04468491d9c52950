-- Authorisation outcomes per hour (UTC hour start, epoch ms), sent to the cloud with the kiosk
-- status; `reported` is the count the cloud last accepted, so only changed hours are sent again.
CREATE TABLE auth_counts (
  hour     INTEGER NOT NULL,
  outcome  TEXT NOT NULL,             -- 'approved' or the denial code
  count    INTEGER NOT NULL,
  reported INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (hour, outcome)
) STRICT, WITHOUT ROWID;

-- The fleet firmware rollout the cloud gave this kiosk, as its local staged rollout runs it.
CREATE TABLE fleet_rollout (
  id         INTEGER PRIMARY KEY CHECK (id = 1),
  rollout_id TEXT NOT NULL,
  version    TEXT NOT NULL,
  sha256     TEXT NOT NULL,
  state      TEXT NOT NULL,             -- downloading, rolling, done, failed, stopped
  message    TEXT,
  updated_at INTEGER NOT NULL
) STRICT;
