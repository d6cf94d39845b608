-- A reminder goes to the provider on the assignment's own channel (assignment.reminded): on its
-- Kafka feed with the transaction that issues it, or, for a webhook provider, as a signed POST
-- from the same leased queue, retries and parking as assignments and withdrawals. The reminder's
-- row is that queue entry; its attempts are kept apart from the assignment's own.
ALTER TABLE reminders
    ADD COLUMN event_id        uuid UNIQUE,          -- the assignment.reminded event; the webhook's delivery id
    ADD COLUMN channel         text,                 -- webhook or kafka, as the assignment's
    ADD COLUMN delivery_state  text,                 -- pending, delivered, failed, stopped, not_needed
    ADD COLUMN payload         text,                 -- the assignment.reminded event as sent
    ADD COLUMN attempts        integer NOT NULL DEFAULT 0,
    ADD COLUMN next_attempt_at timestamptz,
    ADD COLUMN leased_until    timestamptz,
    ADD COLUMN first_failed_at timestamptz,
    ADD COLUMN delivered_at    timestamptz,
    ADD COLUMN trace_headers   text NOT NULL DEFAULT '{}';
CREATE INDEX reminders_due ON reminders (next_attempt_at) WHERE delivery_state = 'pending';

CREATE TABLE reminder_attempts (
    assignment_id  uuid        NOT NULL REFERENCES reminders,
    attempt        integer     NOT NULL,
    at             timestamptz NOT NULL,
    status         integer,
    error          text,
    outcome        text        NOT NULL,                -- delivered, retry, give_up
    elapsed_ms     double precision NOT NULL,
    PRIMARY KEY (assignment_id, attempt)
);
