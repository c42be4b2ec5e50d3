//! HTML views rendered with maud. Functions return `Markup`; maud escapes every interpolated
//! value, and `PreEscaped` is never used on anything a user supplied.

pub mod accounts;
pub mod admin;
pub mod api_docs;
pub mod assets;
pub mod catalog;
pub mod charts;
pub mod codes;
pub mod compare;
pub mod components;
pub mod errors;
pub mod field;
pub mod format;
pub mod gains;
pub mod home;
pub mod layout;
pub mod paper;
pub mod plan;
pub mod questionnaire;
pub mod respond;
pub mod respondents;
pub mod results;
pub mod round_actions;
pub mod rounds;
pub mod sample;
pub mod tokens;

pub use layout::PageContext;
