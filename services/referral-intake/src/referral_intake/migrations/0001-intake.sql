-- Intake's own tables. The only schema where a patient's identity sits beside clinical data;
-- every event leaving intake carries the pseudonymous patient_key instead (except the contact
-- details the assigned provider needs, which travel on referral.accepted for triage to pass on).

CREATE TABLE patients (
    patient_key    text        PRIMARY KEY,   -- keyed hash of the NHS number
    nhs_number     text        NOT NULL UNIQUE,
    contact        jsonb       NOT NULL,      -- PatientContact as last accepted
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- One row per referral, keyed by the deterministic referral_id (source system + source id).
-- A submission intake rejected is kept too, with what was received, so the referrer's
-- corrected resubmission and any query about it find the same row.
CREATE TABLE referrals (
    referral_id          uuid        PRIMARY KEY,
    source_system        text        NOT NULL,
    source_referral_id   text        NOT NULL,
    source_type          text        NOT NULL,
    referrer_ods_code    text        NOT NULL,
    status               text        NOT NULL,
    revision             integer     NOT NULL,
    patient_key          text        REFERENCES patients,
    duplicate_key        text,         -- what "the same programme" means for duplicate checks
    likely_duplicate_of  uuid,
    referred_at          timestamptz NOT NULL,
    received_at          timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    -- The latest submission as received, kept as data. JSON text rather than jsonb: jsonb cannot
    -- hold a NUL character, and a submission refused for containing one must still be kept.
    submission           text        NOT NULL,
    UNIQUE (source_system, source_referral_id)
);
CREATE INDEX referrals_active_by_patient ON referrals (patient_key, duplicate_key)
    WHERE status IN ('received', 'accepted', 'triaged', 'assigned', 'accepted_by_provider', 'started');

-- Append-only audit: who changed a referral's status, when, and through which event.
CREATE TABLE status_history (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    referral_id   uuid        NOT NULL REFERENCES referrals,
    status        text        NOT NULL,
    at            timestamptz NOT NULL,
    actor         text        NOT NULL,     -- the producing system or service
    event_id      uuid        NOT NULL,     -- the event that caused the change
    event_type    text        NOT NULL,
    detail        text,
    reasons       jsonb       NOT NULL DEFAULT '[]'
);
CREATE INDEX status_history_by_referral ON status_history (referral_id, id);

-- The service's own role owns the table, so privileges cannot stop it rewriting history; a
-- trigger can.
CREATE FUNCTION status_history_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'status_history is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER status_history_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON status_history
    FOR EACH STATEMENT EXECUTE FUNCTION status_history_is_append_only();
