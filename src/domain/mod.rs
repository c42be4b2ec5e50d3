//! Pure domain logic: no HTTP, no SQL. Each type here is parsed from raw input once
//! ("parse, don't validate") and is valid for the rest of its life.

pub mod account;
pub mod answers;
pub mod expr;
pub mod instrument;
pub mod items;
pub mod methodology;
pub mod scoring;
pub mod throttle;
pub mod xlsform;
