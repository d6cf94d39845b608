-- Each write of an episode's state stamps it with a new random version, so that a process holding
-- the episode from its own last write (see adapters/episode_cache.py) can tell, while locking the
-- row, whether it is still what is stored and skip reading and parsing it again.
ALTER TABLE episodes ADD COLUMN version bigint;

-- A write of the state that does not bring a new version (a repair by hand, a future code path)
-- clears it, so that no process takes its remembered copy for what is stored.
CREATE FUNCTION episodes_version_cleared() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.version := NULL;
    RETURN NEW;
END $$;

CREATE TRIGGER episodes_state_needs_a_new_version BEFORE UPDATE OF state ON episodes
    FOR EACH ROW WHEN (NEW.version IS NOT DISTINCT FROM OLD.version)
    EXECUTE FUNCTION episodes_version_cleared();
