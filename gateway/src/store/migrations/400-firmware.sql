-- Dispenser firmware images technicians uploaded; the bytes are in DATA_DIR/firmware/<sha256>.
CREATE TABLE firmware_images (
  sha256      TEXT PRIMARY KEY,
  version     TEXT NOT NULL UNIQUE,
  size        INTEGER NOT NULL,
  uploaded_by TEXT,                 -- technician id
  uploaded_at INTEGER NOT NULL
) STRICT;

-- The latest update of each dispenser: pending → downloading → installed → confirmed, or failed.
CREATE TABLE firmware_rollouts (
  dispenser_id TEXT PRIMARY KEY,
  command_id   TEXT NOT NULL UNIQUE,
  version      TEXT NOT NULL,
  sha256       TEXT NOT NULL,
  state        TEXT NOT NULL,
  message      TEXT,
  started_by   TEXT,
  started_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL
) STRICT;
