DROP INDEX responses_paper;
CREATE INDEX responses_paper ON responses (round_id, unit_id) WHERE source = 'paper';
