-- Verifiable random samples (docs/sampling.md). A round's commitment comes first: the frame
-- hash, the sizes per unit × group and where the seed will come from; the seed and the time of
-- the draw are filled in once, by the draw.
CREATE TABLE sample_commitments (
    round_id BIGINT PRIMARY KEY NOT NULL REFERENCES rounds (id) ON DELETE CASCADE,
    frame_hash TEXT NOT NULL,
    seed_source TEXT NOT NULL,
    committed_at TIMESTAMP NOT NULL,
    committed_by TEXT NOT NULL,
    seed TEXT,
    drawn_at TIMESTAMP,
    drawn_by TEXT,
    CHECK ((seed IS NULL) = (drawn_at IS NULL) AND (seed IS NULL) = (drawn_by IS NULL))
);
-- One row per unit × group of the frame: its size, the sample size committed and its hash.
CREATE TABLE sample_strata (
    id INTEGER PRIMARY KEY NOT NULL,
    round_id BIGINT NOT NULL REFERENCES sample_commitments (round_id) ON DELETE CASCADE,
    unit_id BIGINT NOT NULL REFERENCES units (id),
    group_id BIGINT NOT NULL REFERENCES respondent_groups (id),
    frame_size BIGINT NOT NULL,
    sample_size BIGINT NOT NULL CHECK (sample_size >= 0 AND sample_size <= frame_size),
    frame_hash TEXT NOT NULL,
    UNIQUE (round_id, unit_id, group_id)
);
-- The frame as committed, one row per listed respondent with the key the draw hashes (so a
-- later correction of a name cannot change the draw). The draw gives each its position in
-- drawn order (from 0) and its status; a replacement records its reason and time. A
-- respondent deleted from the list later leaves their row, without the link.
CREATE TABLE sample_members (
    id INTEGER PRIMARY KEY NOT NULL,
    stratum_id BIGINT NOT NULL REFERENCES sample_strata (id) ON DELETE CASCADE,
    respondent_id BIGINT REFERENCES respondents (id) ON DELETE SET NULL,
    respondent_key TEXT NOT NULL,
    position BIGINT,
    status TEXT NOT NULL DEFAULT 'frame'
        CHECK (status IN ('frame', 'sampled', 'reserve', 'replaced')),
    reason TEXT CHECK (reason IN ('ineligible', 'unreachable', 'refused')),
    replaced_at TIMESTAMP,
    CHECK ((status = 'replaced') = (reason IS NOT NULL)),
    CHECK ((status = 'frame') = (position IS NULL))
);
CREATE INDEX sample_members_stratum ON sample_members (stratum_id, position);
CREATE INDEX sample_members_respondent ON sample_members (respondent_id);
