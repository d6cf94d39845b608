-- An episode's refused events, read by `referrals trace` by episode: by index, not by scanning
-- the table (its key is event_id).
CREATE INDEX refusals_by_episode ON refusals (episode_id);
