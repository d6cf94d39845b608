-- The contact-deadline timer lives in the table, not in memory: it survives restarts, and any
-- instance may fire it (rows are claimed with SKIP LOCKED).
ALTER TABLE assignments ADD COLUMN expired_at timestamptz;
CREATE INDEX assignments_awaiting_answer ON assignments (contact_deadline) WHERE stage = 'pending';
