-- Published results show how many paper responses each unit has. Scores are computed on every
-- changed dashboard view; this partial index holds only the (few) paper rows, so the count
-- costs nothing with a million web responses.
CREATE INDEX responses_paper ON responses (round_id, unit_id) WHERE source = 'paper';
