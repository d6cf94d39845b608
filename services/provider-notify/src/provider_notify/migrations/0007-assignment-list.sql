-- A provider's list of its assignments (GET /providers/{provider_id}/assignments), newest first
-- by arrival, paged by keyset on (created_at, assignment_id): each page is one range scan of the
-- provider's entries from the cursor, read backwards.
CREATE INDEX assignments_by_provider_arrival ON assignments (provider_id, created_at, assignment_id);
