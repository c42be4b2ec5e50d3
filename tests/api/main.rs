//! Integration tests: the real application on port 0 with an isolated database per test.
//! Run against PostgreSQL by setting `KHAOSAT_TEST_DATABASE_URL` (see `.ci/run`).

#![expect(
    clippy::unwrap_used,
    reason = "test helpers fail the test loudly on any setup error; that is their job"
)]

mod accounts;
mod admin_journey;
mod admission;
mod analyst_files;
mod audit;
mod auth;
mod backup;
mod browser;
mod catalog;
mod cli;
mod codes;
mod compare;
mod disclosure;
mod disk;
mod errors;
mod exclusions;
mod faults;
mod field_import;
mod gains;
mod gains_browser;
mod health;
mod helpers;
mod incomplete;
mod incomplete_journey;
mod internal_rounds;
mod limits;
mod logs;
mod mail;
mod migrations;
mod openapi;
mod paper;
mod permissions;
mod plan;
mod process_exit;
mod properties;
mod question_features;
mod respond;
mod respond_pages;
mod respondent_import;
mod respondents_page;
mod results;
mod round_form;
mod rounds;
mod sampling;
mod scores;
mod security_auth;
mod security_data;
mod security_requests;
mod security_results;
mod smtp;
mod spreadsheets;
mod xlsform_export;
mod xss;
