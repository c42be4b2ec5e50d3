-- khaosat initial schema: the whole data model of the mission. Later features fill these
-- tables in; see docs/data-model.md for the why of each table.
-- Portable types only: ids are 64-bit integers, enums and JSON are TEXT with CHECKs,
-- timestamps are UTC without time zone.

CREATE TABLE app_settings (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE unit_sets (
    id INTEGER PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    name_vi TEXT NOT NULL,
    name_en TEXT NOT NULL,
    first_year INTEGER,
    last_year INTEGER,
    builtin BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE units (
    id INTEGER PRIMARY KEY NOT NULL,
    unit_set_id BIGINT NOT NULL REFERENCES unit_sets (id) ON DELETE CASCADE,
    code TEXT NOT NULL,
    name_vi TEXT NOT NULL,
    name_en TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT 'province',
    region_code TEXT,
    region_vi TEXT,
    region_en TEXT,
    valid_from_year INTEGER,
    valid_to_year INTEGER,
    UNIQUE (unit_set_id, code)
);

-- A unit that absorbed others (2025 merger): year-over-year compares through this lineage.
CREATE TABLE unit_lineage (
    unit_id BIGINT NOT NULL REFERENCES units (id) ON DELETE CASCADE,
    absorbed_unit_id BIGINT NOT NULL REFERENCES units (id) ON DELETE CASCADE,
    PRIMARY KEY (unit_id, absorbed_unit_id)
);

CREATE TABLE respondent_groups (
    id INTEGER PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    name_vi TEXT NOT NULL,
    name_en TEXT NOT NULL,
    sort_order INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY NOT NULL,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'coordinator', 'analyst')),
    password_hash TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    last_login_at TIMESTAMP
);

-- Coordinators see and act only on the units listed here.
CREATE TABLE user_units (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    unit_id BIGINT NOT NULL REFERENCES units (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, unit_id)
);

-- Server-side sessions, so that several instances on one database share them and logout
-- really ends a session. Only a hash of the cookie value is stored.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL
);
CREATE INDEX sessions_user_id ON sessions (user_id);

-- One-time links that create the first administrator (no default password exists).
CREATE TABLE setup_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);

-- Failed-attempt counters for throttling (login per account and per IP, code entry).
-- Kept in the database so every instance sees the same counts.
CREATE TABLE auth_throttle (
    key TEXT PRIMARY KEY NOT NULL,
    failures INTEGER NOT NULL,
    window_started_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP
);

CREATE TABLE instruments (
    id INTEGER PRIMARY KEY NOT NULL,
    code TEXT NOT NULL,
    version INTEGER NOT NULL,
    group_code TEXT NOT NULL,
    title_vi TEXT NOT NULL,
    title_en TEXT NOT NULL,
    source_format TEXT NOT NULL CHECK (source_format IN ('toml', 'xlsform')),
    source_text TEXT NOT NULL,
    definition TEXT NOT NULL,
    content_hash TEXT NOT NULL UNIQUE,
    builtin BOOLEAN NOT NULL DEFAULT FALSE,
    created_by BIGINT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (code, version)
);

CREATE TABLE methodologies (
    id INTEGER PRIMARY KEY NOT NULL,
    code TEXT NOT NULL,
    version INTEGER NOT NULL,
    name_vi TEXT NOT NULL,
    name_en TEXT NOT NULL,
    source_text TEXT NOT NULL,
    definition TEXT NOT NULL,
    content_hash TEXT NOT NULL UNIQUE,
    builtin BOOLEAN NOT NULL DEFAULT FALSE,
    created_by BIGINT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (code, version)
);

CREATE TABLE rounds (
    id INTEGER PRIMARY KEY NOT NULL,
    year INTEGER NOT NULL,
    name_vi TEXT NOT NULL,
    name_en TEXT NOT NULL,
    unit_set_id BIGINT NOT NULL REFERENCES unit_sets (id),
    status TEXT NOT NULL DEFAULT 'draft'
        CHECK (status IN ('draft', 'open', 'closed', 'computed', 'published')),
    opens_at TIMESTAMP,
    closes_at TIMESTAMP,
    compare_round_id BIGINT REFERENCES rounds (id),
    created_by BIGINT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- Which instrument and methodology each respondent group answers in a round.
CREATE TABLE round_groups (
    round_id BIGINT NOT NULL REFERENCES rounds (id) ON DELETE CASCADE,
    group_id BIGINT NOT NULL REFERENCES respondent_groups (id),
    instrument_id BIGINT NOT NULL REFERENCES instruments (id),
    methodology_id BIGINT NOT NULL REFERENCES methodologies (id),
    PRIMARY KEY (round_id, group_id)
);

CREATE TABLE round_units (
    round_id BIGINT NOT NULL REFERENCES rounds (id) ON DELETE CASCADE,
    unit_id BIGINT NOT NULL REFERENCES units (id),
    PRIMARY KEY (round_id, unit_id)
);

CREATE TABLE round_targets (
    round_id BIGINT NOT NULL REFERENCES rounds (id) ON DELETE CASCADE,
    unit_id BIGINT NOT NULL REFERENCES units (id),
    group_id BIGINT NOT NULL REFERENCES respondent_groups (id),
    target INTEGER NOT NULL CHECK (target >= 0),
    PRIMARY KEY (round_id, unit_id, group_id)
);

-- Public intercept links (citizens): one link per unit x group with a quota; each visitor
-- gets a one-time access code behind the scenes.
CREATE TABLE open_links (
    id INTEGER PRIMARY KEY NOT NULL,
    round_id BIGINT NOT NULL REFERENCES rounds (id) ON DELETE CASCADE,
    unit_id BIGINT NOT NULL REFERENCES units (id),
    group_id BIGINT NOT NULL REFERENCES respondent_groups (id),
    token_hash TEXT NOT NULL UNIQUE,
    quota INTEGER NOT NULL CHECK (quota >= 0),
    issued INTEGER NOT NULL DEFAULT 0,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (round_id, unit_id, group_id)
);

-- PII lives here and in invitations/mail_outbox only; never in responses.
CREATE TABLE respondents (
    id INTEGER PRIMARY KEY NOT NULL,
    round_id BIGINT NOT NULL REFERENCES rounds (id) ON DELETE CASCADE,
    unit_id BIGINT NOT NULL REFERENCES units (id),
    group_id BIGINT NOT NULL REFERENCES respondent_groups (id),
    name TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    position TEXT,
    level TEXT,
    opted_out BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (round_id, email)
);
CREATE INDEX respondents_round_unit_group ON respondents (round_id, unit_id, group_id);

-- An access code is stored only as a hash. Its state says whether a response was started or
-- submitted, never which response it became.
CREATE TABLE access_codes (
    id INTEGER PRIMARY KEY NOT NULL,
    round_id BIGINT NOT NULL REFERENCES rounds (id) ON DELETE CASCADE,
    unit_id BIGINT NOT NULL REFERENCES units (id),
    group_id BIGINT NOT NULL REFERENCES respondent_groups (id),
    code_hash TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('invitation', 'open_link', 'paper')),
    open_link_id BIGINT REFERENCES open_links (id),
    state TEXT NOT NULL DEFAULT 'issued' CHECK (state IN ('issued', 'started', 'used')),
    expires_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX access_codes_round_unit_group ON access_codes (round_id, unit_id, group_id, state);

CREATE TABLE invitations (
    id INTEGER PRIMARY KEY NOT NULL,
    respondent_id BIGINT NOT NULL UNIQUE REFERENCES respondents (id) ON DELETE CASCADE,
    access_code_id BIGINT NOT NULL UNIQUE REFERENCES access_codes (id) ON DELETE CASCADE,
    invited_at TIMESTAMP,
    reminders_sent INTEGER NOT NULL DEFAULT 0,
    last_reminded_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- Work in progress, kept under the access code so a respondent can resume on any device.
-- Deleted in the submit transaction.
CREATE TABLE drafts (
    access_code_id BIGINT PRIMARY KEY NOT NULL REFERENCES access_codes (id) ON DELETE CASCADE,
    answers TEXT NOT NULL,
    section INTEGER NOT NULL DEFAULT 0,
    lang TEXT NOT NULL DEFAULT 'vi',
    submission_key TEXT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- Anonymous by construction: no column links a response to a code, invitation, person or IP,
-- and only the date (no time of day) is kept. `answers` is the compact per-response encoding
-- (one JSON object, question code -> value); per-item aggregation reads `tallies` instead.
CREATE TABLE responses (
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
CREATE INDEX responses_round_unit_group ON responses (round_id, unit_id, group_id);

-- Paper questionnaires keyed in by staff; with double entry, two keyings of one form
-- (batch_ref) must agree before a response is created.
CREATE TABLE paper_entries (
    id INTEGER PRIMARY KEY NOT NULL,
    round_id BIGINT NOT NULL REFERENCES rounds (id) ON DELETE CASCADE,
    unit_id BIGINT NOT NULL REFERENCES units (id),
    group_id BIGINT NOT NULL REFERENCES respondent_groups (id),
    instrument_id BIGINT NOT NULL REFERENCES instruments (id),
    batch_ref TEXT NOT NULL,
    entry_no INTEGER NOT NULL CHECK (entry_no IN (1, 2)),
    entered_by BIGINT NOT NULL REFERENCES users (id),
    answers TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'mismatch', 'accepted')),
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (round_id, batch_ref, entry_no)
);

-- Live tallies, updated inside the submit transaction: one row per
-- round x unit x group x item x answer value.
CREATE TABLE tallies (
    round_id BIGINT NOT NULL REFERENCES rounds (id) ON DELETE CASCADE,
    unit_id BIGINT NOT NULL REFERENCES units (id),
    group_id BIGINT NOT NULL REFERENCES respondent_groups (id),
    item_code TEXT NOT NULL,
    value TEXT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (round_id, unit_id, group_id, item_code, value)
);

CREATE TABLE response_counts (
    round_id BIGINT NOT NULL REFERENCES rounds (id) ON DELETE CASCADE,
    unit_id BIGINT NOT NULL REFERENCES units (id),
    group_id BIGINT NOT NULL REFERENCES respondent_groups (id),
    responses BIGINT NOT NULL,
    PRIMARY KEY (round_id, unit_id, group_id)
);

-- Appraised (non-survey) points imported by analysts to compose the full index.
CREATE TABLE appraised_points (
    round_id BIGINT NOT NULL REFERENCES rounds (id) ON DELETE CASCADE,
    unit_id BIGINT NOT NULL REFERENCES units (id),
    component_code TEXT NOT NULL,
    points DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (round_id, unit_id, component_code)
);

-- Published results: immutable once written; publishing again adds a version.
CREATE TABLE score_snapshots (
    id INTEGER PRIMARY KEY NOT NULL,
    round_id BIGINT NOT NULL REFERENCES rounds (id),
    version INTEGER NOT NULL,
    inputs_hash TEXT NOT NULL,
    payload TEXT NOT NULL,
    payload_hash TEXT NOT NULL,
    published_by BIGINT REFERENCES users (id),
    published_at TIMESTAMP NOT NULL,
    UNIQUE (round_id, version)
);

-- Outgoing mail. message_key makes enqueueing idempotent; workers claim rows with a lease
-- (locked_until) so a crash or a second instance never sends one message twice.
CREATE TABLE mail_outbox (
    id INTEGER PRIMARY KEY NOT NULL,
    message_key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    invitation_id BIGINT REFERENCES invitations (id) ON DELETE SET NULL,
    to_address TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'cancelled')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    sent_at TIMESTAMP
);
CREATE INDEX mail_outbox_due ON mail_outbox (status, next_attempt_at);

-- Append-only: triggers below refuse UPDATE and DELETE.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY NOT NULL,
    at TIMESTAMP NOT NULL,
    actor_user_id BIGINT REFERENCES users (id),
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT,
    old_value TEXT,
    new_value TEXT
);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    scope TEXT NOT NULL CHECK (scope IN ('read', 'write')),
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP
);

CREATE TABLE export_jobs (
    id TEXT PRIMARY KEY NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id),
    round_id BIGINT REFERENCES rounds (id),
    kind TEXT NOT NULL,
    format TEXT NOT NULL,
    params TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
    progress BIGINT NOT NULL DEFAULT 0,
    total BIGINT NOT NULL DEFAULT 0,
    file_name TEXT,
    error TEXT,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    finished_at TIMESTAMP
);

INSERT INTO respondent_groups (code, name_vi, name_en, sort_order) VALUES
    ('leader', 'Lãnh đạo, quản lý', 'Leaders and managers', 1),
    ('civil_servant', 'Công chức', 'Civil servants', 2),
    ('citizen', 'Người dân, tổ chức', 'Citizens and organisations', 3);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
