DROP TABLE access_code_aliases;
