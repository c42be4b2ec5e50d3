-- A respondent list checked and shown as a preview, kept until its administrator confirms
-- it (then it is stored as respondents and this row goes) or until it is an hour old. The
-- token is kept only as a hash; the rows are the parsed list as JSON, so the confirm stores
-- exactly what was previewed.
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
