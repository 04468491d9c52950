-- Only release-signed images are stored from now on; the signature and anti-rollback counter go to
-- the dispenser in the ota command. Images stored before were unsigned: no dispenser would install them.
DELETE FROM firmware_images;
ALTER TABLE firmware_images ADD COLUMN counter INTEGER NOT NULL DEFAULT 0;
ALTER TABLE firmware_images ADD COLUMN signature TEXT NOT NULL DEFAULT '';
