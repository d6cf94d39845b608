-- Reminders before the contact deadline, one row per assignment awaiting an answer: the row is
-- both the durable timer (any instance may fire it, claimed with SKIP LOCKED) and the operators'
-- record of what was reminded when, or why nothing was.
CREATE TABLE reminders (
    assignment_id  uuid        PRIMARY KEY REFERENCES assignments,
    provider_id    text        NOT NULL,
    remind_at      timestamptz,                       -- NULL when no reminder is due at all
    state          text        NOT NULL,              -- waiting, reminded, not_needed
    reason         text,                              -- why not_needed
    reminded_at    timestamptz,
    scheduled_at   timestamptz NOT NULL
);
CREATE INDEX reminders_waiting ON reminders (remind_at) WHERE state = 'waiting';
