-- Triage's own tables: referrals being placed, the placements made, and provider capacity.

-- One row per referral triage has decided. `accepted` is the referral.accepted payload of the
-- revision decided, kept while the referral may still need a provider (it holds the contact
-- details a reassignment must pass on) and cleared once placing is over.
CREATE TABLE referrals (
    referral_id   uuid        PRIMARY KEY,
    revision      integer     NOT NULL,
    state         text        NOT NULL,  -- placing, placed, unplaced, signposted, returned, cancelled
    decision      jsonb       NOT NULL,  -- the referral.triaged payload
    accepted      jsonb,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Each attempt to place a referral with a provider's service.
CREATE TABLE placements (
    referral_id    uuid        NOT NULL REFERENCES referrals,
    attempt        integer     NOT NULL,
    assignment_id  uuid        NOT NULL UNIQUE,
    service_id     text        NOT NULL,
    provider_id    text        NOT NULL,
    programme      text        NOT NULL,
    period         text        NOT NULL,  -- capacity month, YYYY-MM
    state          text        NOT NULL,  -- open, declined, expired, cancelled
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (referral_id, attempt)
);

-- New patients a service can take per programme per month, and how many are reserved. Rows are
-- written from the provider directory; `reserved` only ever changes under a row lock, in the
-- same transaction as the placement, so concurrent triage instances cannot over-fill it.
CREATE TABLE capacity (
    service_id  text    NOT NULL,
    programme   text    NOT NULL,
    period      text    NOT NULL,
    capacity    integer NOT NULL CHECK (capacity >= 0),
    reserved    integer NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    PRIMARY KEY (service_id, programme, period)
);
