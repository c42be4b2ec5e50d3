DROP INDEX responses_excluded;
DROP INDEX responses_flagged;
