-- Coverage and the dashboard count paper and field responses per unit and group on every
-- page view. Each source is counted by its own query, which reads only that source's partial
-- index; the paper index gains the group so that its count, like the field one, never reads
-- the table (before, a count over both sources scanned every response of the round).
DROP INDEX responses_paper;
CREATE INDEX responses_paper ON responses (round_id, unit_id, group_id) WHERE source = 'paper';
