-- Coverage counts invitations per unit × group straight from this index, without a join.
CREATE INDEX access_codes_round_kind ON access_codes (round_id, kind, unit_id, group_id, state);
