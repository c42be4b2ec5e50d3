//! The life of a survey round: `draft → open → closed → computed → published`, the explicit
//! actions that move it, who may perform them, and when a round accepts responses.
//!
//! # Rules
//!
//! | action    | from                            | to          | who               |
//! |-----------|---------------------------------|-------------|-------------------|
//! | `open`    | draft                           | open        | admin             |
//! | `close`   | open                            | closed      | admin             |
//! | `reopen`  | closed, computed                | open        | admin             |
//! | `compute` | closed, computed, published     | computed    | admin             |
//! | `publish` | computed, published             | published   | admin             |
//!
//! Keying paper forms is no transition, but the same table says who may do it:
//!
//! | permission         | what                                              | who                 |
//! |--------------------|---------------------------------------------------|---------------------|
//! | `key_paper`        | key a form as one of two keyings (double entry)   | admin, coordinator  |
//! | `key_paper_single` | key a form that counts at once (single entry)     | admin               |
//! | `import_submissions` | import the submissions collected offline with ODK or Kobo | admin |
//!
//! * **Reopen** is allowed until publication: extending fieldwork because a province's response
//!   rate is too low is routine, and a computation made before that is simply stale (the round
//!   must be closed and computed again before it can be published). After publication the
//!   responses behind a public score must not change, so a published round never reopens.
//! * **Compute** recomputes the tallies from the raw answers and checks the live tallies
//!   against them; a round whose tallies disagree is not marked computed. It may run again at
//!   any time after closing (recompute after a correction). From
//!   `published` it yields `computed`: the status then says truthfully that the latest
//!   computation is not the published one. Published snapshots are immutable versions kept
//!   elsewhere, so the previous publication stays public until the next `publish`.
//! * **Publish** from `published` creates a new snapshot version (n + 1) of the latest
//!   computation. There is no *unpublish*: a published index is a public record; corrections
//!   are published as a new version.
//! * **Roles**: every change of a round's state is an administrator's decision. Analysts
//!   check results on the scores page (live tallies) without changing the round; coordinators
//!   run fieldwork for their units. The round page offers exactly the actions of
//!   [`allowed_actions`], and the action route refuses any other with the same table.
//! * **Paper forms**: a keyed form becomes a response without any respondent behind it, so no
//!   single coordinator may add one alone: they key by double entry, and the two keyings must
//!   come from two different accounts and agree. Administrators, who already answer for the
//!   whole round, may also key a form that counts at once. Every keying is audited.
//! * **Field submissions** (collected offline with ODK Collect or KoboCollect) become responses
//!   in bulk, each counting at once with no second pair of eyes: like a single-entry paper
//!   form, only an administrator imports them, and every import is audited.
//! * The configuration (units, group → instrument and methodology) is frozen from `open` on,
//!   so every response is scored against the set-up it was collected under. What steers
//!   fieldwork without entering a score stays adjustable while the round is open: the group
//!   targets, and the closing time, which may only move later (extending fieldwork). A draft
//!   can be edited in full or deleted; from `open` on a round is never deleted.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDateTime;

use crate::domain::account::Role;

/// Where a round is in its life; stored as the TEXT of [`RoundStatus::code`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundStatus {
    /// Being set up; nothing is collected.
    Draft,
    /// Fieldwork: respondents may answer (within the schedule).
    Open,
    /// Fieldwork over; waiting for computation.
    Closed,
    /// Scores computed and not yet published (or recomputed since the last publication).
    Computed,
    /// Scores public; at least one snapshot version exists.
    Published,
}

/// Something a user does to a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundAction {
    /// Start fieldwork on a draft round.
    Open,
    /// End fieldwork.
    Close,
    /// Resume fieldwork on a closed (or computed, not yet published) round.
    Reopen,
    /// Compute (or recompute) the scores.
    Compute,
    /// Publish the latest computation as a new snapshot version.
    Publish,
    /// Key a paper form as one of the two keyings of a double entry (not a transition).
    KeyPaper,
    /// Key a paper form that counts at once, without a second keying (not a transition).
    KeyPaperSingle,
    /// Import a file of field submissions (ODK, KoboToolbox) as responses (not a transition).
    ImportSubmissions,
}

/// Why a lifecycle request is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleError {
    /// The action does not apply to a round in this state.
    #[error("a round that is {from} cannot be {}", action.past_participle())]
    NotAllowed {
        /// The round's current state.
        from: RoundStatus,
        /// The refused action.
        action: RoundAction,
    },
    /// A status text that is not one of ours (e.g. a corrupted database value).
    #[error("unknown round status '{0}'")]
    UnknownStatus(String),
    /// An action text that is not one of ours (e.g. a tampered form).
    #[error("unknown round action '{0}'")]
    UnknownAction(String),
    /// The schedule closes before it opens.
    #[error("the closing time is before the opening time")]
    ClosesBeforeOpening,
    /// The schedule closes at the very moment it opens, so it would never accept a response.
    #[error("the closing time is the same as the opening time")]
    ClosesWhenOpening,
}

/// Every status, in lifecycle order.
pub const ALL_STATUSES: [RoundStatus; 5] = [
    RoundStatus::Draft,
    RoundStatus::Open,
    RoundStatus::Closed,
    RoundStatus::Computed,
    RoundStatus::Published,
];

/// Every lifecycle action (transition), in the order a round normally sees them. The paper
/// permissions are not among them: no form can ask for them as a transition.
pub const ALL_ACTIONS: [RoundAction; 5] = [
    RoundAction::Open,
    RoundAction::Close,
    RoundAction::Reopen,
    RoundAction::Compute,
    RoundAction::Publish,
];

/// Which account roles may perform which action. Kept as data so the rule can be shown on
/// the round page and reviewed at a glance.
pub const PERMISSIONS: [(RoundAction, &[Role]); 8] = [
    (RoundAction::Open, &[Role::Admin]),
    (RoundAction::Close, &[Role::Admin]),
    (RoundAction::Reopen, &[Role::Admin]),
    (RoundAction::Compute, &[Role::Admin]),
    (RoundAction::Publish, &[Role::Admin]),
    (RoundAction::KeyPaper, &[Role::Admin, Role::Coordinator]),
    (RoundAction::KeyPaperSingle, &[Role::Admin]),
    (RoundAction::ImportSubmissions, &[Role::Admin]),
];

/// The state after `action` on a round in state `from`, or why it is refused.
pub fn transition(from: RoundStatus, action: RoundAction) -> Result<RoundStatus, LifecycleError> {
    use RoundAction as A;
    use RoundStatus as S;
    match (from, action) {
        (S::Draft, A::Open) => Ok(S::Open),
        (S::Open, A::Close) => Ok(S::Closed),
        (S::Closed | S::Computed, A::Reopen) => Ok(S::Open),
        (S::Closed | S::Computed | S::Published, A::Compute) => Ok(S::Computed),
        (S::Computed | S::Published, A::Publish) => Ok(S::Published),
        _ => Err(LifecycleError::NotAllowed { from, action }),
    }
}

/// The lifecycle actions an account with `role` may perform on a round in state `status`, in
/// order: the buttons of the round page, from the same [`PERMISSIONS`] the action route
/// checks.
pub fn allowed_actions(role: Role, status: RoundStatus) -> Vec<RoundAction> {
    status
        .available_actions()
        .into_iter()
        .filter(|a| a.allowed_for(role))
        .collect()
}

/// Checks a round's schedule: when both ends are set, closing must come after opening.
/// Either end may be missing (opened or closed by hand).
pub fn validate_schedule(
    opens_at: Option<NaiveDateTime>,
    closes_at: Option<NaiveDateTime>,
) -> Result<(), LifecycleError> {
    match (opens_at, closes_at) {
        (Some(open), Some(close)) if close < open => Err(LifecycleError::ClosesBeforeOpening),
        (Some(open), Some(close)) if close == open => Err(LifecycleError::ClosesWhenOpening),
        _ => Ok(()),
    }
}

/// Reads a status from its stored TEXT.
pub fn parse_status(text: &str) -> Result<RoundStatus, LifecycleError> {
    ALL_STATUSES
        .into_iter()
        .find(|s| s.code() == text)
        .ok_or_else(|| LifecycleError::UnknownStatus(text.chars().take(40).collect()))
}

impl RoundStatus {
    /// The TEXT stored in the database: `draft`, `open`, `closed`, `computed`, `published`.
    pub fn code(self) -> &'static str {
        match self {
            RoundStatus::Draft => "draft",
            RoundStatus::Open => "open",
            RoundStatus::Closed => "closed",
            RoundStatus::Computed => "computed",
            RoundStatus::Published => "published",
        }
    }

    /// The message-catalogue key of the status's display name.
    pub fn label_key(self) -> &'static str {
        match self {
            RoundStatus::Draft => "round.status.draft",
            RoundStatus::Open => "round.status.open",
            RoundStatus::Closed => "round.status.closed",
            RoundStatus::Computed => "round.status.computed",
            RoundStatus::Published => "round.status.published",
        }
    }

    /// True when a response submitted at `now` is accepted: the round is open and `now` is in
    /// the window `[opens_at, closes_at)`. A missing end does not limit that side.
    pub fn accepts_responses(
        self,
        now: NaiveDateTime,
        opens_at: Option<NaiveDateTime>,
        closes_at: Option<NaiveDateTime>,
    ) -> bool {
        self == RoundStatus::Open
            && opens_at.is_none_or(|open| now >= open)
            && closes_at.is_none_or(|close| now < close)
    }

    /// True when the round was opened ahead of its window and `now` is before `opens_at`:
    /// shown as scheduled, with its opening date, and nobody is invited to begin yet.
    pub fn is_scheduled(self, now: NaiveDateTime, opens_at: Option<NaiveDateTime>) -> bool {
        self == RoundStatus::Open && opens_at.is_some_and(|open| now < open)
    }

    /// True from `open` on: units, group → instrument and methodology, and targets can no
    /// longer change, because responses have been (or are being) collected under them.
    pub fn config_frozen(self) -> bool {
        self != RoundStatus::Draft
    }

    /// The actions that apply to a round in this state (whoever performs them), in order.
    pub fn available_actions(self) -> Vec<RoundAction> {
        ALL_ACTIONS
            .into_iter()
            .filter(|&a| transition(self, a).is_ok())
            .collect()
    }
}

impl RoundAction {
    /// The text used in forms and audit logs: `open`, `close`, `reopen`, `compute`, `publish`.
    pub fn code(self) -> &'static str {
        match self {
            RoundAction::Open => "open",
            RoundAction::Close => "close",
            RoundAction::Reopen => "reopen",
            RoundAction::Compute => "compute",
            RoundAction::Publish => "publish",
            RoundAction::KeyPaper => "key_paper",
            RoundAction::KeyPaperSingle => "key_paper_single",
            RoundAction::ImportSubmissions => "import_submissions",
        }
    }

    /// The message-catalogue key of the action's display name (as on its button).
    pub fn label_key(self) -> &'static str {
        match self {
            RoundAction::Open => "round.action.open",
            RoundAction::Close => "round.action.close",
            RoundAction::Reopen => "round.action.reopen",
            RoundAction::Compute => "round.action.compute",
            RoundAction::Publish => "round.action.publish",
            RoundAction::KeyPaper => "round.action.key_paper",
            RoundAction::KeyPaperSingle => "round.action.key_paper_single",
            RoundAction::ImportSubmissions => "round.action.import_submissions",
        }
    }

    /// True when an account with `role` may perform this action, by [`PERMISSIONS`].
    pub fn allowed_for(self, role: Role) -> bool {
        PERMISSIONS
            .iter()
            .any(|(action, roles)| *action == self && roles.contains(&role))
    }

    fn past_participle(self) -> &'static str {
        match self {
            RoundAction::Open => "opened",
            RoundAction::Close => "closed",
            RoundAction::Reopen => "reopened",
            RoundAction::Compute => "computed",
            RoundAction::Publish => "published",
            RoundAction::KeyPaper | RoundAction::KeyPaperSingle => "keyed into",
            RoundAction::ImportSubmissions => "imported into",
        }
    }
}

impl fmt::Display for RoundStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Display for RoundAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for RoundStatus {
    type Err = LifecycleError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_status(s)
    }
}

/// Reads the stored TEXT (the database edge loads a status through this, so a corrupted value
/// is an error there, never a default).
impl TryFrom<String> for RoundStatus {
    type Error = LifecycleError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        parse_status(&text)
    }
}

impl FromStr for RoundAction {
    type Err = LifecycleError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ALL_ACTIONS
            .into_iter()
            .find(|a| a.code() == s)
            .ok_or_else(|| LifecycleError::UnknownAction(s.chars().take(40).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RoundAction as A;
    use RoundStatus as S;

    use crate::domain::test_fixtures::minute as t;

    #[test]
    fn a_round_goes_from_draft_to_published_through_each_state() {
        let mut status = S::Draft;
        for (action, expected) in [
            (A::Open, S::Open),
            (A::Close, S::Closed),
            (A::Compute, S::Computed),
            (A::Publish, S::Published),
        ] {
            status = transition(status, action).unwrap();
            assert_eq!(status, expected);
        }
    }

    #[test]
    fn the_transition_table_is_exactly_the_documented_one() {
        let allowed = [
            (S::Draft, A::Open, S::Open),
            (S::Open, A::Close, S::Closed),
            (S::Closed, A::Reopen, S::Open),
            (S::Computed, A::Reopen, S::Open),
            (S::Closed, A::Compute, S::Computed),
            (S::Computed, A::Compute, S::Computed),
            (S::Published, A::Compute, S::Computed),
            (S::Computed, A::Publish, S::Published),
            (S::Published, A::Publish, S::Published),
        ];
        for from in ALL_STATUSES {
            for action in ALL_ACTIONS {
                let expected = allowed
                    .iter()
                    .find(|(f, a, _)| *f == from && *a == action)
                    .map(|(_, _, to)| *to);
                match expected {
                    Some(to) => assert_eq!(transition(from, action), Ok(to)),
                    None => assert_eq!(
                        transition(from, action),
                        Err(LifecycleError::NotAllowed { from, action })
                    ),
                }
            }
        }
    }

    #[test]
    fn a_published_round_can_be_recomputed_and_republished_but_never_reopened() {
        assert_eq!(transition(S::Published, A::Publish), Ok(S::Published));
        assert_eq!(transition(S::Published, A::Compute), Ok(S::Computed));
        let err = transition(S::Published, A::Reopen).unwrap_err();
        assert_eq!(
            err.to_string(),
            "a round that is published cannot be reopened"
        );
    }

    #[test]
    fn a_draft_cannot_be_computed_or_published() {
        assert!(transition(S::Draft, A::Compute).is_err());
        assert!(transition(S::Draft, A::Publish).is_err());
        assert!(transition(S::Open, A::Compute).is_err());
        assert!(transition(S::Closed, A::Publish).is_err());
    }

    #[test]
    fn only_admins_change_a_rounds_state() {
        for action in ALL_ACTIONS {
            assert!(action.allowed_for(Role::Admin));
            assert!(!action.allowed_for(Role::Analyst));
            assert!(!action.allowed_for(Role::Coordinator));
        }
        // A role text that is not exactly one of ours never becomes a role, so it may do nothing.
        assert!("Admin".parse::<Role>().is_err());
        assert!("".parse::<Role>().is_err());
    }

    #[test]
    fn coordinators_key_paper_forms_only_by_double_entry_and_admins_also_by_single_entry() {
        assert!(A::KeyPaper.allowed_for(Role::Admin));
        assert!(A::KeyPaper.allowed_for(Role::Coordinator));
        assert!(!A::KeyPaper.allowed_for(Role::Analyst));
        assert!(A::KeyPaperSingle.allowed_for(Role::Admin));
        assert!(!A::KeyPaperSingle.allowed_for(Role::Coordinator));
        assert!(!A::KeyPaperSingle.allowed_for(Role::Analyst));
        // Permissions, not transitions: no state offers them and no form can ask for them.
        for status in ALL_STATUSES {
            assert!(transition(status, A::KeyPaper).is_err());
            assert!(!status.available_actions().contains(&A::KeyPaperSingle));
        }
        assert!("key_paper_single".parse::<RoundAction>().is_err());
    }

    #[test]
    fn only_admins_import_field_submissions_and_no_form_can_ask_for_it_as_a_transition() {
        assert!(A::ImportSubmissions.allowed_for(Role::Admin));
        assert!(!A::ImportSubmissions.allowed_for(Role::Coordinator));
        assert!(!A::ImportSubmissions.allowed_for(Role::Analyst));
        for status in ALL_STATUSES {
            assert!(transition(status, A::ImportSubmissions).is_err());
        }
        assert!("import_submissions".parse::<RoundAction>().is_err());
    }

    #[test]
    fn responses_are_accepted_only_while_open_and_inside_the_window() {
        let (open, close) = (Some(t(0)), Some(t(60)));
        assert!(S::Open.accepts_responses(t(0), open, close));
        assert!(S::Open.accepts_responses(t(59), open, close));
        assert!(!S::Open.accepts_responses(t(-1), open, close));
        assert!(!S::Open.accepts_responses(t(60), open, close));
        assert!(S::Open.accepts_responses(t(10_000), None, None));
        assert!(S::Open.accepts_responses(t(10_000), open, None));
        assert!(!S::Open.accepts_responses(t(-10), open, None));
        for status in [S::Draft, S::Closed, S::Computed, S::Published] {
            assert!(!status.accepts_responses(t(30), open, close));
            assert!(!status.accepts_responses(t(30), None, None));
        }
    }

    #[test]
    fn configuration_is_frozen_from_opening_on() {
        assert!(!S::Draft.config_frozen());
        for status in [S::Open, S::Closed, S::Computed, S::Published] {
            assert!(status.config_frozen());
        }
    }

    #[test]
    fn a_schedule_must_close_after_it_opens() {
        assert_eq!(validate_schedule(Some(t(0)), Some(t(1))), Ok(()));
        assert_eq!(validate_schedule(None, Some(t(1))), Ok(()));
        assert_eq!(validate_schedule(Some(t(1)), None), Ok(()));
        assert_eq!(validate_schedule(None, None), Ok(()));
        let before = validate_schedule(Some(t(1)), Some(t(0))).unwrap_err();
        assert_eq!(
            before.to_string(),
            "the closing time is before the opening time"
        );
        assert_eq!(
            validate_schedule(Some(t(1)), Some(t(1))),
            Err(LifecycleError::ClosesWhenOpening)
        );
    }

    #[test]
    fn statuses_and_actions_round_trip_through_their_text() {
        for status in ALL_STATUSES {
            assert_eq!(parse_status(status.code()), Ok(status));
            assert_eq!(status.to_string().parse::<RoundStatus>(), Ok(status));
        }
        for action in ALL_ACTIONS {
            assert_eq!(action.code().parse::<RoundAction>(), Ok(action));
        }
        assert_eq!(
            parse_status("Open"),
            Err(LifecycleError::UnknownStatus("Open".to_owned()))
        );
        assert!("unpublish".parse::<RoundAction>().is_err());
    }

    #[test]
    fn each_state_offers_the_buttons_that_apply() {
        assert_eq!(S::Draft.available_actions(), [A::Open]);
        assert_eq!(S::Open.available_actions(), [A::Close]);
        assert_eq!(S::Closed.available_actions(), [A::Reopen, A::Compute]);
        assert_eq!(
            S::Computed.available_actions(),
            [A::Reopen, A::Compute, A::Publish]
        );
        assert_eq!(S::Published.available_actions(), [A::Compute, A::Publish]);
    }

    #[test]
    fn the_buttons_a_role_sees_are_the_actions_the_table_lets_it_perform() {
        assert_eq!(
            allowed_actions(Role::Admin, S::Computed),
            [A::Reopen, A::Compute, A::Publish]
        );
        for status in ALL_STATUSES {
            assert!(
                allowed_actions(Role::Analyst, status).is_empty(),
                "{status}"
            );
            assert!(
                allowed_actions(Role::Coordinator, status).is_empty(),
                "{status}"
            );
            for action in allowed_actions(Role::Admin, status) {
                assert!(transition(status, action).is_ok());
                assert!(action.allowed_for(Role::Admin));
            }
        }
    }

    #[test]
    fn an_open_round_before_its_opening_time_is_scheduled_and_only_then() {
        assert!(S::Open.is_scheduled(t(0), Some(t(60))));
        assert!(!S::Open.is_scheduled(t(60), Some(t(60))));
        assert!(!S::Open.is_scheduled(t(0), None));
        assert!(!S::Draft.is_scheduled(t(0), Some(t(60))));
    }
}
