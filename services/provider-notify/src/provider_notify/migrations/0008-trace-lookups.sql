-- Look-ups by referral and by assignment that scanned whole tables: a referral's assignments
-- (closed together when the referrer cancels it, and read by `referrals trace`) and the
-- provider's responses to an assignment (read by `referrals trace`). Neither column led an
-- index: assignments' key is assignment_id, responses' is (provider_id, response_id).
CREATE INDEX assignments_by_referral ON assignments (referral_id);
CREATE INDEX responses_by_assignment ON responses (assignment_id);
