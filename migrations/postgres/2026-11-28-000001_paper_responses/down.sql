DROP INDEX responses_paper;
