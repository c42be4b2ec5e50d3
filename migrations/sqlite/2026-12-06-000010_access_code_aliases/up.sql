-- Further codes that open an access code: a reminder carries a fresh code (the first one is
-- kept only as a keyed hash and cannot be repeated), and every code a respondent was sent
-- keeps working. They share the access code row, so its state (started, used), its draft and
-- the coverage counts are one; submitting with any of them uses them all.
CREATE TABLE access_code_aliases (
    code_hash TEXT PRIMARY KEY NOT NULL,
    access_code_id BIGINT NOT NULL REFERENCES access_codes (id) ON DELETE CASCADE
);
CREATE INDEX access_code_aliases_code ON access_code_aliases (access_code_id);
