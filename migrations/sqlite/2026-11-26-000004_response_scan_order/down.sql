DROP INDEX responses_round_group_order;
DROP INDEX responses_round_order;
