-- Kiosk hardware sensor readings (gateway/src/hardware). Only real answers are
-- stored: a silent sensor leaves a gap, never a guessed value. Bounded by the
-- readings store's retention (age and row cap).
CREATE TABLE hardware_readings (
  id     INTEGER PRIMARY KEY,
  sensor TEXT NOT NULL,
  at     INTEGER NOT NULL,  -- epoch ms
  value  REAL NOT NULL,
  unit   TEXT NOT NULL
) STRICT;

CREATE INDEX hardware_readings_sensor_at ON hardware_readings (sensor, at);
CREATE INDEX hardware_readings_at ON hardware_readings (at);
