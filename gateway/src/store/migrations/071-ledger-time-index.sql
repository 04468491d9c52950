-- The transactions CSV reads the ledger in pages by (occurred_at, seq): each page seeks here.
CREATE INDEX ledger_time ON ledger_events (occurred_at, seq);
