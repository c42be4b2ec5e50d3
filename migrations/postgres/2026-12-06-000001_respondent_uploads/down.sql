DROP TABLE respondent_uploads;
