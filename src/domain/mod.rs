//! Pure domain logic: no HTTP, no SQL. Each type here is parsed from raw input once
//! ("parse, don't validate") and is valid for the rest of its life.

pub mod access_code;
pub mod account;
pub mod answer_scan;
pub mod answer_value;
pub mod answers;
pub mod appraised;
pub mod bootstrap;
pub mod client_addr;
pub mod disclosure;
pub mod export_job;
pub mod expr;
pub mod field_submissions;
pub mod gains;
pub mod instrument;
pub mod items;
pub mod lifecycle;
pub mod local_time;
pub mod mail_outbox;
pub mod methodology;
pub mod number;
pub mod paper_form;
pub mod quality;
pub mod redirect;
pub mod reminders;
pub mod respondent_list;
pub mod sampling;
pub mod scoring;
pub mod source;
pub mod stored_code;
pub mod tabular;
#[cfg(test)]
pub(crate) mod test_fixtures;
pub mod text;
pub mod throttle;
pub mod unit_list;
pub mod unit_match;
pub mod xlsform;
pub mod xlsx;
pub mod yoy;
