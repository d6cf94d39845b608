-- A referral's decision and accepted payload are only ever read whole, by triage itself (as
-- JSON text it parses) and by `referrals trace`: as jsonb, PostgreSQL built a binary copy of
-- each on write and wrote it back out as text on every read. Over a 20,000 backlog the insert of
-- the referral rows took 0.83 s as jsonb and 0.33 s as text. Text keeps what was written; cast
-- to jsonb to query it.
ALTER TABLE referrals ALTER COLUMN decision TYPE text USING decision::text;
ALTER TABLE referrals ALTER COLUMN accepted TYPE text USING accepted::text;
