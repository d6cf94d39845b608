-- The W3C trace context the assignment arrived with (JSON headers, '{}' when untraced), so that
-- its delivery and the provider's answers, which happen later and outside any consumer, join the
-- referral's trace.
ALTER TABLE assignments ADD COLUMN trace_headers text NOT NULL DEFAULT '{}';
