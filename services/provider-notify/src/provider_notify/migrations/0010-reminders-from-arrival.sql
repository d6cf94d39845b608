-- Every assignment gets its reminder row as it is stored, "unscheduled" until the timer works out
-- when to remind (with the working-day calendar, which SQL lacks). The timer used to find the
-- assignments still without a row by an anti-join over every pending one, once a second on every
-- instance, so its cost grew with the number of assignments awaiting an answer; it now reads
-- only the new rows, through a partial index.
ALTER TABLE reminders ALTER COLUMN scheduled_at DROP NOT NULL;
INSERT INTO reminders (assignment_id, provider_id, state)
SELECT a.assignment_id, a.provider_id, 'unscheduled' FROM assignments a
WHERE NOT EXISTS (SELECT 1 FROM reminders r WHERE r.assignment_id = a.assignment_id)
    AND a.stage = 'pending';
CREATE INDEX reminders_unscheduled ON reminders (assignment_id) WHERE state = 'unscheduled';
