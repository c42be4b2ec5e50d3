-- The dashboards count flagged and excluded responses per unit on every view; these partial
-- indexes hold only those few rows, so the count stays instant with a million responses.
CREATE INDEX responses_flagged ON responses (round_id, unit_id) WHERE flags IS NOT NULL;
CREATE INDEX responses_excluded ON responses (round_id, unit_id) WHERE excluded;
