-- A patient's contact details and a status change's reasons are only ever read whole (the
-- referrer's timeline, `referrals trace`): as jsonb, PostgreSQL built a binary copy of each on
-- write and wrote it back out as text on every read. Text keeps what intake wrote; cast to
-- jsonb to query it.
ALTER TABLE patients ALTER COLUMN contact TYPE text USING contact::text;
ALTER TABLE status_history ALTER COLUMN reasons DROP DEFAULT;
ALTER TABLE status_history ALTER COLUMN reasons TYPE text USING reasons::text;
ALTER TABLE status_history ALTER COLUMN reasons SET DEFAULT '[]';
