-- Withdrawals: an assignment closed without the provider's answer (referral cancelled, or the
-- contact deadline passed), told to the provider as assignment.withdrawn on the assignment's own
-- channel. One row per withdrawn assignment, written with the closing of the assignment. For a
-- webhook provider the row is also its delivery queue entry, leased and retried by the same
-- deliverer as assignments; its attempts are kept apart from the assignment's own.
CREATE TABLE withdrawals (
    assignment_id    uuid        PRIMARY KEY REFERENCES assignments,
    event_id         uuid        NOT NULL UNIQUE,       -- the assignment.withdrawn event; the webhook's delivery id
    provider_id      text        NOT NULL,
    channel          text        NOT NULL,              -- webhook or kafka, as the assignment's
    reason           text        NOT NULL,              -- referral_cancelled, expired
    delivery_state   text        NOT NULL,              -- pending, delivered, failed, not_needed
    payload          text        NOT NULL,              -- the assignment.withdrawn event as sent
    attempts         integer     NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz,                       -- when pending: the next try
    leased_until     timestamptz,
    first_failed_at  timestamptz,
    delivered_at     timestamptz,
    trace_headers    text        NOT NULL DEFAULT '{}', -- the assignment's, so delivery joins its trace
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX withdrawals_due ON withdrawals (next_attempt_at) WHERE delivery_state = 'pending';

CREATE TABLE withdrawal_attempts (
    assignment_id  uuid        NOT NULL REFERENCES withdrawals,
    attempt        integer     NOT NULL,
    at             timestamptz NOT NULL,
    status         integer,
    error          text,
    outcome        text        NOT NULL,                -- delivered, retry, give_up
    elapsed_ms     double precision NOT NULL,
    PRIMARY KEY (assignment_id, attempt)
);
