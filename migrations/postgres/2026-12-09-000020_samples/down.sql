DROP TABLE sample_members;
DROP TABLE sample_strata;
DROP TABLE sample_commitments;
