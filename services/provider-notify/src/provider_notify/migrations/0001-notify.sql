-- provider-notify's own tables: assignments to deliver, and every delivery attempt.

CREATE TABLE assignments (
    assignment_id    uuid        PRIMARY KEY,
    referral_id      uuid        NOT NULL,
    provider_id      text        NOT NULL,
    channel          text        NOT NULL,              -- webhook or kafka
    delivery_state   text        NOT NULL,              -- pending, delivered, failed, stopped
    payload          text        NOT NULL,              -- the assignment.created event as sent
    contact_deadline timestamptz NOT NULL,
    attempts         integer     NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz,                       -- when pending: the next try
    leased_until     timestamptz,                       -- a deliverer is trying it until then
    first_failed_at  timestamptz,
    delivered_at     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX assignments_due ON assignments (next_attempt_at) WHERE delivery_state = 'pending';

-- Every attempt, kept: when, what came back, how long it took.
CREATE TABLE delivery_attempts (
    assignment_id  uuid        NOT NULL REFERENCES assignments,
    attempt        integer     NOT NULL,
    at             timestamptz NOT NULL,
    status         integer,
    error          text,
    outcome        text        NOT NULL,                -- delivered, retry, give_up
    elapsed_ms     double precision NOT NULL,
    PRIMARY KEY (assignment_id, attempt)
);
