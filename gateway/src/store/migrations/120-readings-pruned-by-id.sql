-- Fewer pages written per reading (SD-card wear, bench/RESULTS.md § wear): the (at) index was
-- written at every flush of the buckets and served only pruning by age, which now walks the
-- oldest rows by id (rows are written in time order) and stops at the first one to keep.
DROP INDEX hardware_readings_at;
