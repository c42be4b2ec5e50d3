-- Field responses cannot be kept under the old constraint: reverting fails on them rather
-- than dropping collected data silently.
DROP TABLE submission_uploads;
DROP INDEX responses_field;
ALTER TABLE responses DROP CONSTRAINT responses_source_check;
ALTER TABLE responses ADD CONSTRAINT responses_source_check CHECK (source IN ('web', 'paper'));
