//! Survey rounds end to end: creating and configuring a round, its lifecycle, respondent
//! lists, access codes, e-mail invitations and reminders, open links, and coverage. Shared by
//! the admin pages and the CLI; handlers stay thin.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::NaiveDateTime;

use crate::app::auth::tokens::{SecretKey, hash_token};
use crate::app::catalog;
use crate::app::mail::templates::{self, InvitationContent};
use crate::db::audit::{AuditEntry, record};
use crate::db::respondents::NewRespondent;
use crate::db::rounds::{NewRound, RoundFields, RoundRow};
use crate::db::units::{NewUnit, NewUnitSet, UnitRow};
use crate::db::{self, AnyConnection, outbox};
use crate::domain::access_code::{AccessCode, CodeKind, CodeState};
use crate::domain::lifecycle::{self, LifecycleError, RoundAction, RoundStatus};
use crate::domain::reminders::{self, InvitationState, ReminderPolicy};
use crate::domain::respondent_list::{parse_respondent_csv, parse_respondent_xlsx};
use crate::domain::tabular::RowError;
use crate::domain::unit_list::{UnitSet, provinces_2023, provinces_2025};
use crate::error::AppError;
use crate::i18n::{Lang, t, tf};

mod actions;
mod codes;
mod configure;
mod coverage;
mod edit;
mod invitations;
mod open_links;
mod overview;
mod respondents;
mod roster;
mod sampling;
mod units;

pub use actions::*;
pub use codes::*;
pub use configure::*;
pub use coverage::*;
pub use edit::*;
pub use invitations::*;
pub use open_links::*;
pub use overview::{GroupChoice, OpenLinkLine, RoundOverview, overview};
pub use respondents::*;
pub use roster::*;
pub use sampling::*;
pub use units::*;

/// Code of the bundled set of 63 provinces (rounds up to 2024).
pub const PROVINCES_2023: &str = "vn-provinces-2023";

/// Code of the bundled set of 34 units in force from 2025.
pub const UNITS_2025: &str = "vn-units-2025";

/// Why a round operation was refused. Messages are shown to administrators as they are.
#[derive(Debug, thiserror::Error)]
pub enum RoundError {
    /// The input is not acceptable; the message says what and where.
    #[error("{0}")]
    Invalid(Refusal),
    /// Fields of a form are not acceptable; each refusal names its field, so the form can show
    /// it beside the field and in its summary.
    #[error("{}", .0.iter().map(|f| f.message.to_string()).collect::<Vec<_>>().join("\n"))]
    Fields(Vec<FieldRefusal>),
    /// The methodology does not fit the questionnaire; the problems say where.
    #[error("{0}")]
    MethodologyMisfit(MethodologyMisfit),
    /// A file had bad rows; nothing was imported.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Rows(Vec<RowError>),
    /// The lifecycle forbids it.
    #[error(transparent)]
    Lifecycle(#[from] LifecycleError),
    /// The live tallies differ from a recomputation from the raw answers, so the round was
    /// not marked computed.
    #[error(
        "the live tallies differ from the raw answers in {differences} place(s); the round was not marked computed"
    )]
    TalliesDiffer {
        /// How many cells (or response counts) differ.
        differences: usize,
    },
    /// No such round.
    #[error("no such round")]
    NotFound,
    /// The database failed.
    #[error(transparent)]
    App(#[from] AppError),
}

/// For callers that only read (coverage, the reissue page, the public open-link and opt-out
/// pages): a missing round is 404, a database failure keeps its kind, and anything else is a
/// bad request. The one mapping such callers use.
impl From<RoundError> for AppError {
    fn from(e: RoundError) -> Self {
        match e {
            RoundError::App(e) => e,
            RoundError::NotFound => AppError::NotFound,
            RoundError::Invalid(_)
            | RoundError::Fields(_)
            | RoundError::MethodologyMisfit(_)
            | RoundError::Rows(_)
            | RoundError::Lifecycle(_)
            | RoundError::TalliesDiffer { .. } => AppError::BadRequest("error.bad_request.body"),
        }
    }
}

impl RoundError {
    /// The refusal as the messages to show its reader, in `lang`: one per line of the refusal,
    /// bad row or refused field. A missing round or a failure is the error to propagate
    /// instead. The one rendering of a round refusal: the admin pages, the field import and
    /// the command line all use it, so none shows an English text to a Vietnamese reader.
    pub fn messages(self, lang: Lang) -> std::result::Result<Vec<String>, AppError> {
        let lines = |text: String| text.lines().map(str::to_owned).collect();
        match self {
            RoundError::App(e) => Err(e),
            RoundError::NotFound => Err(AppError::NotFound),
            RoundError::TalliesDiffer { differences } => Ok(vec![tf(
                lang,
                "round.compute.tallies_differ",
                &[("count", &differences.to_string())],
            )]),
            RoundError::Invalid(refusal) => Ok(lines(refusal.text(lang))),
            RoundError::Rows(rows) => Ok(rows.iter().map(|r| r.text(lang)).collect()),
            RoundError::Fields(fields) => Ok(fields.iter().map(|f| f.message.text(lang)).collect()),
            RoundError::MethodologyMisfit(misfit) => Ok(lines(misfit.text(lang))),
            RoundError::Lifecycle(e) => lifecycle_message(lang, e).map(|m| vec![m]),
        }
    }
}

/// A lifecycle refusal in `lang`. An unknown stored status or action is a failure (corrupted
/// data or a tampered request), not a refusal to explain.
fn lifecycle_message(lang: Lang, e: LifecycleError) -> std::result::Result<String, AppError> {
    Ok(match e {
        LifecycleError::NotAllowed { from, action } => tf(
            lang,
            "round.invalid.not_allowed",
            &[
                ("status", t(lang, from.label_key())),
                ("action", t(lang, action.label_key())),
            ],
        ),
        LifecycleError::ClosesBeforeOpening => {
            t(lang, "round.invalid.closes_before_opens").to_owned()
        }
        LifecycleError::ClosesWhenOpening => t(lang, "round.invalid.closes_when_opens").to_owned(),
        LifecycleError::UnknownStatus(_) | LifecycleError::UnknownAction(_) => {
            return Err(AppError::internal(anyhow::anyhow!("{e}")));
        }
    })
}

impl From<diesel::result::Error> for RoundError {
    fn from(e: diesel::result::Error) -> Self {
        RoundError::App(e.into())
    }
}

type Result<T> = std::result::Result<T, RoundError>;

fn invalid(key: &'static str, args: &[(&'static str, &str)]) -> RoundError {
    RoundError::invalid(key, args)
}

impl RoundError {
    /// A refusal with the message-catalogue `key` and its `{name}` parameters.
    pub fn invalid(key: &'static str, args: &[(&'static str, &str)]) -> Self {
        RoundError::Invalid(Refusal::new(key, args))
    }
}

/// A refusal about one field of a form: the field's `id` in the page, and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRefusal {
    /// The `id` (and `name`) of the form field at fault.
    pub field: &'static str,
    /// What is wrong with it, in the reader's language.
    pub message: Refusal,
}

impl FieldRefusal {
    /// The refusal `key` with its `{name}` parameters, about `field`.
    pub fn new(field: &'static str, key: &'static str, args: &[(&'static str, &str)]) -> Self {
        Self {
            field,
            message: Refusal::new(key, args),
        }
    }
}

/// Why an operation was refused, as a message-catalogue key (`round.invalid.*`) with its
/// parameters, so each reader sees it in their language.
pub type Refusal = crate::i18n::Localized;

pub use crate::app::actor::Actor;

fn audit(
    conn: &mut AnyConnection,
    actor: Actor<'_>,
    action: &str,
    round_id: i64,
    old: Option<String>,
    new: Option<String>,
) -> Result<()> {
    record(
        conn,
        &AuditEntry {
            old_value: old,
            new_value: new,
            ..AuditEntry::new(actor.user_id, actor.label, action, "round", round_id)
        },
    )?;
    Ok(())
}

fn round_or_404(conn: &mut AnyConnection, round_id: i64) -> Result<RoundRow> {
    db::rounds::by_id(conn, round_id)?.ok_or(RoundError::NotFound)
}

fn status_of(round: &RoundRow) -> Result<RoundStatus> {
    Ok(round.status)
}

fn require_draft(round: &RoundRow) -> Result<()> {
    if status_of(round)?.config_frozen() {
        return Err(invalid("round.invalid.frozen", &[]));
    }
    Ok(())
}
