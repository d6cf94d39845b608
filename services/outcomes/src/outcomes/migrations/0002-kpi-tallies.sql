-- The KPI facts tallied per referral month, kept up to date as episodes change (see
-- adapters/kpi_tallies.py), so that an unfiltered breakdown reads a few hundred rows instead of
-- every fact. Per month, dimension, value and KPI: the sums of the numerators and denominators of
-- the episodes in that cell and that KPI's denominator, and how many they are. Every dimension is
-- tallied with its values ("all" with the value "all"), the month being a column of each; a
-- patient in several PLUS groups counts in each, so all-time and total figures come from the
-- "all" dimension and sums over months (every column is additive).
CREATE TABLE kpi_tallies (
    dimension        text   NOT NULL,
    dimension_value  text   NOT NULL,
    month            text   NOT NULL,
    kpi              text   NOT NULL,
    numerator        bigint NOT NULL,
    denominator      bigint NOT NULL,
    episodes         bigint NOT NULL,
    PRIMARY KEY (dimension, dimension_value, month, kpi)
);

-- For a median KPI, how many episodes of each cell contribute each value.
CREATE TABLE kpi_value_counts (
    dimension        text    NOT NULL,
    dimension_value  text    NOT NULL,
    month            text    NOT NULL,
    kpi              text    NOT NULL,
    value            integer NOT NULL,
    count            bigint  NOT NULL,
    PRIMARY KEY (dimension, dimension_value, month, kpi, value)
);

-- The from-scratch definition of both, over kpi_facts: each fact in each cell it counts in (as
-- domain/facts.py `fact_values` places it), once per KPI it contributes to. Used for the backfill
-- below, by tests to check the incremental tallies, and to rebuild the tallies should they ever
-- need it (DELETE both tables, then INSERT ... SELECT * FROM the two views below).
CREATE VIEW kpi_fact_cells AS
SELECT f.month, c.dimension, c.dimension_value, k.kpi, k.numerator, k.denominator
FROM kpi_facts f
CROSS JOIN LATERAL (
    VALUES
        ('all', 'all'),
        ('programme', f.programme),
        ('provider', f.provider_id),
        ('district', coalesce(f.district, 'unknown')),
        ('imd_quintile', coalesce(f.imd_quintile::text, 'unknown')),
        ('core20', CASE WHEN f.imd_quintile IS NULL THEN 'unknown'
                        WHEN f.imd_quintile = 1 THEN 'core20' ELSE 'rest' END),
        ('ethnicity', f.ethnic_group),
        ('age_band', f.age_band),
        ('sex', f.sex)
    UNION ALL
    SELECT 'priority_group', g
    FROM unnest(CASE WHEN cardinality(f.plus_groups) = 0 THEN ARRAY['none'] ELSE f.plus_groups END) AS g
) AS c (dimension, dimension_value)
CROSS JOIN LATERAL (
    VALUES
        ('uptake', f.uptake_n, f.uptake_d),
        ('time_to_first_contact_days', f.time_to_first_contact_days_n, f.time_to_first_contact_days_d),
        ('adherence', f.adherence_n, f.adherence_d),
        ('adherence_75', f.adherence_75_n, f.adherence_75_d),
        ('completion', f.completion_n, f.completion_d),
        ('inactive_to_active_12w', f.inactive_to_active_12w_n, f.inactive_to_active_12w_d),
        ('activity_minutes_change', f.activity_minutes_change_n, f.activity_minutes_change_d),
        ('wellbeing_change', f.wellbeing_change_n, f.wellbeing_change_d),
        ('d2a_independent', f.d2a_independent_n, f.d2a_independent_d),
        ('d2a_at_home_91', f.d2a_at_home_91_n, f.d2a_at_home_91_d)
) AS k (kpi, numerator, denominator)
WHERE k.denominator IS NOT NULL;

CREATE VIEW kpi_tallies_from_facts AS
SELECT dimension, dimension_value, month, kpi,
       sum(numerator)::bigint AS numerator, sum(denominator)::bigint AS denominator, count(*) AS episodes
FROM kpi_fact_cells
GROUP BY dimension, dimension_value, month, kpi;

-- The median KPIs (Aggregate.MEDIAN in domain/kpis.py).
CREATE VIEW kpi_value_counts_from_facts AS
SELECT dimension, dimension_value, month, kpi, numerator AS value, count(*) AS count
FROM kpi_fact_cells
WHERE kpi IN ('time_to_first_contact_days')
GROUP BY dimension, dimension_value, month, kpi, numerator;

-- Backfill from the facts already recorded. Writers of facts wait meanwhile; an instance of the
-- previous version (which writes facts without tallies) must not run after this, or the tallies
-- must be rebuilt once it has stopped.
LOCK TABLE kpi_facts IN SHARE MODE;
INSERT INTO kpi_tallies SELECT * FROM kpi_tallies_from_facts;
INSERT INTO kpi_value_counts SELECT * FROM kpi_value_counts_from_facts;
