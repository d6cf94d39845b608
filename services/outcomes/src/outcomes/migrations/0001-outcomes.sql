-- outcomes keeps no identifiers: an episode is keyed by a keyed hash of its referral id (see
-- domain/episode_key.py) and describes the patient in bands and groups only.

-- One row per episode: a referral triage placed on a programme. `state` is the episode as JSON
-- (profile, milestones, every version of the measures, the events applied); text rather than
-- jsonb because it is only ever read whole (cast it to jsonb to query it). A row without state
-- is an episode not opened yet, with events parked for it.
CREATE TABLE episodes (
    episode_id   text        PRIMARY KEY,
    state        text,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Each assignment delivered to a provider: the episode it belongs to (so a provider can post
-- measures by assignment id) and, the latest first, who holds the referral.
CREATE TABLE assignments (
    assignment_id  uuid        PRIMARY KEY,
    episode_id     text        NOT NULL,
    provider_id    text        NOT NULL,
    delivered_at   timestamptz NOT NULL
);
CREATE INDEX assignments_by_episode ON assignments (episode_id, delivered_at DESC);

-- Events that arrived before their episode opened, applied (in arrival order) when it does.
CREATE TABLE parked (
    seq         bigserial   PRIMARY KEY,
    episode_id  text        NOT NULL,
    event_id    uuid        NOT NULL UNIQUE,
    event       jsonb       NOT NULL,
    parked_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX parked_by_episode ON parked (episode_id);

-- Events the episode rules refused (out of range, follow-up before baseline, ...), kept with why.
CREATE TABLE refusals (
    event_id    uuid        PRIMARY KEY,
    episode_id  text        NOT NULL,
    source      text        NOT NULL,  -- kafka or http
    code        text        NOT NULL,
    message     text        NOT NULL,
    event       jsonb       NOT NULL,
    refused_at  timestamptz NOT NULL DEFAULT now()
);

-- Each open episode as the KPI queries read it: breakdown values, and per KPI the numerator and
-- denominator it contributes (both null outside that KPI's denominator).
CREATE TABLE kpi_facts (
    episode_id    text     PRIMARY KEY,
    month         text     NOT NULL,
    programme     text     NOT NULL,
    provider_id   text     NOT NULL,
    district      text,
    imd_quintile  smallint,
    ethnic_group  text     NOT NULL,
    age_band      text     NOT NULL,
    sex           text     NOT NULL,
    plus_groups   text[]   NOT NULL,
    uptake_n integer,
    uptake_d integer,
    time_to_first_contact_days_n integer,
    time_to_first_contact_days_d integer,
    adherence_n integer,
    adherence_d integer,
    adherence_75_n integer,
    adherence_75_d integer,
    completion_n integer,
    completion_d integer,
    inactive_to_active_12w_n integer,
    inactive_to_active_12w_d integer,
    activity_minutes_change_n integer,
    activity_minutes_change_d integer,
    wellbeing_change_n integer,
    wellbeing_change_d integer,
    d2a_independent_n integer,
    d2a_independent_d integer,
    d2a_at_home_91_n integer,
    d2a_at_home_91_d integer
);

CREATE INDEX kpi_facts_by_month ON kpi_facts (month);

-- Months whose KPI cells changed since they were last published on outcome.kpi.v1.
CREATE TABLE kpi_dirty (
    month  text PRIMARY KEY
);

-- What was last published for each cell, so only changed cells go out again.
CREATE TABLE kpi_published (
    kpi              text NOT NULL,
    period           text NOT NULL,
    dimension        text NOT NULL,
    dimension_value  text NOT NULL,
    published        jsonb NOT NULL,
    PRIMARY KEY (kpi, period, dimension, dimension_value)
);
