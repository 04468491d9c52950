-- What the cloud last published the customer drew on usage_day at every kiosk (merged events
-- only); this kiosk adds its own unacknowledged dispenses for a daily limit across kiosks.
ALTER TABLE customers ADD COLUMN usage_day TEXT;
ALTER TABLE customers ADD COLUMN used_today_ml INTEGER NOT NULL DEFAULT 0;
