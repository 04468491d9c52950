-- Decisions are pruned by age (settings.decisionRetentionMs).
CREATE INDEX auth_decisions_decided_at ON auth_decisions (decided_at);
