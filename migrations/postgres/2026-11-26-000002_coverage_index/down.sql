DROP INDEX access_codes_round_kind;
