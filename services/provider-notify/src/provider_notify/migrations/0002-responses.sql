-- Where each assignment stands at the provider, and every response received (applied, repeated
-- or refused, with why), so nothing a provider sent is lost and nothing is applied twice.
ALTER TABLE assignments ADD COLUMN stage text NOT NULL DEFAULT 'pending';

CREATE TABLE responses (
    provider_id    text        NOT NULL,
    response_id    text        NOT NULL,
    assignment_id  uuid        NOT NULL,
    response       text        NOT NULL,
    outcome        text        NOT NULL,   -- applied or refused
    code           text,
    message        text,
    received_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider_id, response_id)
);
