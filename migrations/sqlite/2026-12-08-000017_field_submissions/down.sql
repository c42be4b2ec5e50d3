-- Field responses cannot be kept under the old constraint: reverting fails on them (the copy
-- below violates the CHECK) rather than dropping collected data silently.
CREATE TABLE responses_old (
    id INTEGER PRIMARY KEY NOT NULL,
    receipt TEXT NOT NULL UNIQUE,
    submission_key TEXT NOT NULL UNIQUE,
    round_id BIGINT NOT NULL REFERENCES rounds (id),
    unit_id BIGINT NOT NULL REFERENCES units (id),
    group_id BIGINT NOT NULL REFERENCES respondent_groups (id),
    instrument_id BIGINT NOT NULL REFERENCES instruments (id),
    submitted_on DATE NOT NULL,
    source TEXT NOT NULL DEFAULT 'web' CHECK (source IN ('web', 'paper')),
    duration_seconds INTEGER,
    answers TEXT NOT NULL,
    flags TEXT,
    excluded BOOLEAN NOT NULL DEFAULT FALSE
);
INSERT INTO responses_old (id, receipt, submission_key, round_id, unit_id, group_id,
    instrument_id, submitted_on, source, duration_seconds, answers, flags, excluded)
SELECT id, receipt, submission_key, round_id, unit_id, group_id,
    instrument_id, submitted_on, source, duration_seconds, answers, flags, excluded
FROM responses;
DROP TABLE responses;
ALTER TABLE responses_old RENAME TO responses;
CREATE INDEX responses_round_unit_group ON responses (round_id, unit_id, group_id);
CREATE INDEX responses_flagged ON responses (round_id, unit_id) WHERE flags IS NOT NULL;
CREATE INDEX responses_excluded ON responses (round_id, unit_id) WHERE excluded;
CREATE INDEX responses_round_order ON responses (round_id, id);
CREATE INDEX responses_round_group_order ON responses (round_id, group_id, id);
CREATE INDEX responses_paper ON responses (round_id, unit_id) WHERE source = 'paper';

-- Previews are transient: the respondent-list table comes back empty.
DROP TABLE upload_previews;
CREATE TABLE respondent_uploads (
    id INTEGER PRIMARY KEY NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    round_id BIGINT NOT NULL REFERENCES rounds (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    round_status TEXT NOT NULL,
    listed_before BIGINT NOT NULL,
    file_name TEXT NOT NULL,
    rows_json TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX respondent_uploads_created_at ON respondent_uploads (created_at);
