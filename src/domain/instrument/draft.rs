//! What a reader (TOML or XLSForm) extracted, with locations, before validation.

use std::collections::BTreeMap;

use super::{Location, Text};
use crate::domain::expr::{Calc, ChoiceFilter, Expr};
/// A value with the place it was read from.
#[derive(Debug, Clone)]
pub(crate) struct At<T> {
    pub value: T,
    pub at: Location,
}

impl<T> At<T> {
    pub(crate) fn new(value: T, at: Location) -> Self {
        Self { value, at }
    }
}

/// A number as written (integer or float).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Number {
    Int(i64),
    Float(f64),
}

#[derive(Debug, Clone)]
pub(crate) enum DraftChoices {
    List(String),
    Inline(Vec<DraftOption>),
}

#[derive(Debug, Clone)]
pub(crate) struct DraftOption {
    pub value: Option<At<String>>,
    pub label: Option<Text>,
    pub valid: bool,
    /// Extra columns for choice filters.
    pub attributes: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub(crate) enum DraftContinuation {
    Code(String),
    New,
}

#[derive(Debug, Clone)]
pub(crate) struct DraftItem {
    pub code: Option<At<String>>,
    pub label: Option<Text>,
    pub continues: Option<At<DraftContinuation>>,
}

#[derive(Debug, Clone)]
pub(crate) struct DraftQuestion {
    pub at: Location,
    pub code: Option<At<String>>,
    pub kind: Option<At<String>>,
    pub label: Option<Text>,
    pub hint: Option<Text>,
    pub required: bool,
    pub relevant: Option<At<Expr>>,
    pub constraint: Option<At<Expr>>,
    pub constraint_message: Option<At<Text>>,
    pub choices: Option<At<DraftChoices>>,
    pub items: Option<At<Vec<DraftItem>>>,
    pub min: Option<At<Number>>,
    pub max: Option<At<Number>>,
    pub max_length: Option<At<i64>>,
    pub scored: Option<At<bool>>,
    pub continues: Option<At<DraftContinuation>>,
    pub calculation: Option<At<Calc>>,
    pub required_message: Option<At<Text>>,
    pub default: Option<At<String>>,
    pub appearance: Option<At<String>>,
    pub choice_filter: Option<At<ChoiceFilter>>,
}

impl DraftQuestion {
    pub(crate) fn new(at: Location) -> Self {
        Self {
            at,
            code: None,
            kind: None,
            label: None,
            hint: None,
            required: false,
            relevant: None,
            constraint: None,
            constraint_message: None,
            choices: None,
            items: None,
            min: None,
            max: None,
            max_length: None,
            scored: None,
            continues: None,
            calculation: None,
            required_message: None,
            default: None,
            appearance: None,
            choice_filter: None,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct DraftSection {
    pub at: Location,
    pub code: Option<At<String>>,
    pub title: Option<Text>,
    pub intro: Option<Text>,
    pub relevant: Option<At<Expr>>,
    pub questions: Vec<DraftQuestion>,
}

#[derive(Debug, Clone)]
pub(crate) struct DraftList {
    pub name: At<String>,
    pub options: Vec<DraftOption>,
}

#[derive(Debug, Clone)]
pub(crate) struct DraftInstrument {
    pub at: Location,
    pub code: Option<At<String>>,
    pub version: Option<At<i64>>,
    pub group: Option<At<String>>,
    pub provenance: Option<String>,
    pub title: Option<Text>,
    pub instructions: Option<Text>,
    pub continues: Option<At<(String, i64)>>,
    pub choice_lists: Vec<DraftList>,
    pub sections: Vec<DraftSection>,
}
