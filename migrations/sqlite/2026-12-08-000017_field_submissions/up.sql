-- Responses collected offline with ODK Collect or KoboCollect and imported from the server's
-- submission export carry the source 'field'. SQLite cannot change a CHECK constraint in
-- place, so the table is rebuilt with the same columns, rows (ids kept) and indexes; no other
-- table references it.
CREATE TABLE responses_new (
    id INTEGER PRIMARY KEY NOT NULL,
    receipt TEXT NOT NULL UNIQUE,
    submission_key TEXT NOT NULL UNIQUE,
    round_id BIGINT NOT NULL REFERENCES rounds (id),
    unit_id BIGINT NOT NULL REFERENCES units (id),
    group_id BIGINT NOT NULL REFERENCES respondent_groups (id),
    instrument_id BIGINT NOT NULL REFERENCES instruments (id),
    submitted_on DATE NOT NULL,
    source TEXT NOT NULL DEFAULT 'web' CHECK (source IN ('web', 'paper', 'field')),
    duration_seconds INTEGER,
    answers TEXT NOT NULL,
    flags TEXT,
    excluded BOOLEAN NOT NULL DEFAULT FALSE
);
INSERT INTO responses_new (id, receipt, submission_key, round_id, unit_id, group_id,
    instrument_id, submitted_on, source, duration_seconds, answers, flags, excluded)
SELECT id, receipt, submission_key, round_id, unit_id, group_id,
    instrument_id, submitted_on, source, duration_seconds, answers, flags, excluded
FROM responses;
DROP TABLE responses;
ALTER TABLE responses_new RENAME TO responses;
CREATE INDEX responses_round_unit_group ON responses (round_id, unit_id, group_id);
CREATE INDEX responses_flagged ON responses (round_id, unit_id) WHERE flags IS NOT NULL;
CREATE INDEX responses_excluded ON responses (round_id, unit_id) WHERE excluded;
CREATE INDEX responses_round_order ON responses (round_id, id);
CREATE INDEX responses_round_group_order ON responses (round_id, group_id, id);
CREATE INDEX responses_paper ON responses (round_id, unit_id) WHERE source = 'paper';
-- Coverage and results count field responses per unit and group; like the paper index, this
-- one holds only those rows.
CREATE INDEX responses_field ON responses (round_id, unit_id, group_id) WHERE source = 'field';

-- An import checked and shown as a preview, kept until its administrator confirms it (then
-- it is stored and this row goes) or until it is an hour old: a respondent list
-- ('respondents') or a field submission export ('submissions'). The token is kept only as a
-- hash; the payload is the checked rows or responses as JSON, so the confirm stores exactly
-- what was previewed. `listed_before` (how many respondents the round had at the preview)
-- belongs to respondent lists alone, hence the second CHECK. One table serves both kinds;
-- the respondent-list table it replaces is dropped with its rows, which are at most an hour
-- old: an administrator with a preview open uploads the list again.
CREATE TABLE upload_previews (
    id INTEGER PRIMARY KEY NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    round_id BIGINT NOT NULL REFERENCES rounds (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('respondents', 'submissions')),
    round_status TEXT NOT NULL,
    listed_before BIGINT,
    file_name TEXT NOT NULL,
    payload_json TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    CHECK ((kind = 'respondents') = (listed_before IS NOT NULL))
);
CREATE INDEX upload_previews_created_at ON upload_previews (created_at);
DROP TABLE respondent_uploads;
