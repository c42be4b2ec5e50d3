//! Small reusable pieces of markup: form fields and the error summary (the GOV.UK Design
//! System pattern: a summary at the top linking to each field, and a message beside it).

use maud::{Markup, html};

use super::PageContext;
use super::format::name;
use super::layout::page;
use crate::db::rounds::RoundRow;

/// A field error: the input's id and the catalogue key of the message.
#[derive(Debug, Clone)]
pub struct FieldError {
    /// The `id` of the input at fault (the summary links to it).
    pub field: &'static str,
    /// Catalogue key of the message.
    pub message_key: &'static str,
}

/// The box at the top of a form listing every error with a link to its field.
pub fn error_summary(ctx: &PageContext, errors: &[FieldError]) -> Markup {
    html! {
        @if !errors.is_empty() {
            div.error-summary role="alert" tabindex="-1" aria-labelledby="error-summary-title" {
                h2 #error-summary-title { (ctx.t("form.errors.title")) }
                ul {
                    @for e in errors {
                        li { a href={ "#" (e.field) } { (ctx.t(e.message_key)) } }
                    }
                }
            }
        }
    }
}

/// A labelled text-like input with its hint and inline error.
pub struct Input<'a> {
    /// `id` and `name`.
    pub name: &'static str,
    /// `type` attribute.
    pub kind: &'static str,
    /// Catalogue key of the label.
    pub label_key: &'static str,
    /// Catalogue key of a hint, if any.
    pub hint_key: Option<&'static str>,
    /// Current value (never for passwords).
    pub value: &'a str,
    /// `autocomplete` attribute.
    pub autocomplete: &'static str,
}

impl Input<'_> {
    /// Renders the field, marking it invalid when `errors` names it.
    pub fn render(&self, ctx: &PageContext, errors: &[FieldError]) -> Markup {
        let error = errors.iter().find(|e| e.field == self.name);
        let hint_id = format!("{}-hint", self.name);
        let error_id = format!("{}-error", self.name);
        let described_by = [
            self.hint_key.map(|_| hint_id.as_str()),
            error.map(|_| error_id.as_str()),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
        html! {
            div.field.has-error[error.is_some()] {
                label for=(self.name) { (ctx.t(self.label_key)) }
                @if let Some(hint) = self.hint_key { p.hint #(hint_id) { (ctx.t(hint)) } }
                @if let Some(e) = error { p.error-message #(error_id) { (ctx.t(e.message_key)) } }
                input #(self.name) name=(self.name) type=(self.kind) value=(self.value)
                    autocomplete=(self.autocomplete)
                    aria-describedby=[(!described_by.is_empty()).then_some(described_by.as_str())]
                    aria-invalid=[error.map(|_| "true")];
            }
        }
    }
}

/// A field error whose message is already in the reader's language (a refusal with
/// parameters, such as the value that was typed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldMessage {
    /// The `id` of the input at fault (the summary links to it).
    pub field: &'static str,
    /// The message.
    pub text: String,
}

/// The error summary for messages already rendered: those about no particular field as text,
/// each field's as a link to it.
pub fn message_summary(ctx: &PageContext, general: &[String], fields: &[FieldMessage]) -> Markup {
    html! {
        @if !general.is_empty() || !fields.is_empty() {
            div.error-summary role="alert" tabindex="-1" aria-labelledby="error-summary-title" {
                h2 #error-summary-title { (ctx.t("form.errors.title")) }
                ul {
                    @for e in general { li { (e) } }
                    @for e in fields { li { a href={ "#" (e.field) } { (e.text) } } }
                }
            }
        }
    }
}

/// The error message shown beside field `id`, if any, with the id it is known by
/// (`{id}-error`, for `aria-describedby`).
pub fn field_message<'a>(fields: &'a [FieldMessage], id: &str) -> Option<&'a FieldMessage> {
    fields.iter().find(|e| e.field == id)
}

/// The link back to a round's page, above a page about part of it, named in the page's
/// language.
pub fn back_to_round(ctx: &PageContext, round: &RoundRow) -> Markup {
    html! {
        p { a href={ "/admin/rounds/" (round.id) } { "← " (name(ctx.lang, &round.name_vi, &round.name_en)) } }
    }
}

/// A page about part of a round: the link back to the round, the heading `title_key` (also
/// the page's title), then `body`.
pub fn round_part_page(
    ctx: &PageContext,
    round: &RoundRow,
    title_key: &str,
    body: Markup,
) -> Markup {
    let title = ctx.t(title_key);
    page(
        ctx,
        title,
        html! {
            (back_to_round(ctx, round))
            h1 { (title) }
            (body)
        },
    )
}
