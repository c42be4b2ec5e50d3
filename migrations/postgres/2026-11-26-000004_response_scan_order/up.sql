-- Recomputation and exports page through a round's responses in id order ("id > last ORDER BY
-- id LIMIT n"). Without an index that starts with the round and ends with the id, every page
-- re-sorted the whole round: a million responses took 40 s instead of a few.
CREATE INDEX responses_round_order ON responses (round_id, id);
CREATE INDEX responses_round_group_order ON responses (round_id, group_id, id);
