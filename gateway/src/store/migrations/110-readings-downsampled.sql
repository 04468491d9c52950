-- Readings are downsampled before they reach the SD card (hardware/readings/readings-store.ts):
-- one row per sensor per HW_READINGS_BUCKET_MS with the average in `value`, the extremes and how
-- many answers it summarises. Rows written before this are single answers (samples 1).
ALTER TABLE hardware_readings ADD COLUMN min_value REAL;
ALTER TABLE hardware_readings ADD COLUMN max_value REAL;
ALTER TABLE hardware_readings ADD COLUMN samples INTEGER NOT NULL DEFAULT 1;
