//! The respondent's journey, independent of HTTP: opening an access code (the one place a code
//! is checked, throttled and looked up), keeping the draft, moving between sections, and
//! submitting exactly once. Submission is one transaction that
//! marks the code used, stores the anonymous response, updates the live tallies and deletes
//! the draft; replaying it returns the same receipt.

use crate::app::auth::throttle;
use crate::app::auth::tokens::{SecretKey, hash_token, random_token};
use crate::app::rounds::code_hash;
use crate::app::scores::add_to_tallies;
use crate::db::drafts::DraftRow;
use crate::db::responses::NewResponse;
use crate::db::rounds::RoundRow;
use crate::db::{self, AnyConnection};
use crate::domain::access_code::{self, AccessCode};
use crate::domain::answers::{Answers, FieldError, missing_required, prune_irrelevant};
use crate::domain::instrument::{Instrument, Section};
use crate::domain::throttle::CODE_PER_IP;
use crate::error::AppError;

/// A code that opens a questionnaire now.
#[derive(Debug, Clone)]
pub struct Session {
    /// The code, for links to the next page.
    pub code: AccessCode,
    /// The access code's row id.
    pub code_id: i64,
    /// Its round.
    pub round: RoundRow,
    /// Unit.
    pub unit_id: i64,
    /// Group.
    pub group_id: i64,
    /// The instrument version the group answers.
    pub instrument_id: i64,
    /// The draft, if answering has started.
    pub draft: Option<DraftRow>,
}

/// What a code is.
#[derive(Debug, Clone)]
pub enum CodeState {
    /// It opens the questionnaire.
    Ready(Box<Session>),
    /// Its response was submitted.
    Used,
    /// Its round is not accepting answers now (not yet open, closed, or outside the window).
    NotOpen(Box<RoundRow>),
    /// A public-link code left unfinished past its expiry: its draft is gone, and the holder
    /// can only start again from the link.
    Expired,
    /// No such code, a mistyped one (wrong check character), or its group has no
    /// questionnaire: the respondent cannot tell these apart, so neither can a guesser.
    Unknown,
}

/// The wrong-code throttle key of a client address.
fn throttle_key(client: &str) -> String {
    format!("code:ip:{client}")
}

/// Whether a submission with this receipt number is stored: the receipt page confirms only
/// what was really kept, and says nothing else about the response.
pub fn receipt_exists(conn: &mut AnyConnection, receipt: &str) -> Result<bool, AppError> {
    Ok(db::responses::receipt_exists(conn, receipt)?)
}

/// The one door for an access code from a respondent URL, on every route that takes one:
/// refuses with 429 while `client` (the client's address) is throttled, checks the check
/// character, looks the code up, and counts a mistyped or unknown code against `client`.
/// Both come back as [`CodeState::Unknown`], so they are answered alike.
pub fn open(
    conn: &mut AnyConnection,
    secret: &SecretKey,
    client: &str,
    raw: &str,
) -> Result<CodeState, AppError> {
    let key = throttle_key(client);
    let limits = [(key.as_str(), CODE_PER_IP)];
    // The usual case, a code that exists, reads the client's throttle row in the same query
    // as the code; any other reads it alone. Either way a throttled client is refused before
    // the code's state is looked at, so a locked-out client learns nothing of its codes.
    let found = match AccessCode::parse(raw) {
        Ok(code) => {
            let hash = code_hash(secret, &code);
            let stored_key = throttle::stored_key(&key);
            match db::access_codes::with_round_draft_and_throttle(conn, &hash, &stored_key)? {
                Some((found, throttle_row)) => {
                    throttle::check_read(throttle_row, CODE_PER_IP)?;
                    state_of(&code, Some(found))
                }
                None => {
                    throttle::check(conn, &limits)?;
                    // An unknown hash may still be a further code of a row.
                    state_of(&code, db::access_codes::by_further_code(conn, &hash)?)
                }
            }
        }
        Err(_) => {
            throttle::check(conn, &limits)?;
            CodeState::Unknown
        }
    };
    if matches!(found, CodeState::Unknown) {
        throttle::record_failure(conn, &limits)?;
    }
    Ok(found)
}

/// Counts a code typed into the entry form that failed its check character against `client`
/// (429 once throttled), on the same throttle as [`open`]. Nothing is looked up: the typo was
/// caught by arithmetic, so the form may say "typo" without revealing anything.
pub fn count_mistyped(conn: &mut AnyConnection, client: &str) -> Result<(), AppError> {
    let key = throttle_key(client);
    let limits = [(key.as_str(), CODE_PER_IP)];
    throttle::check(conn, &limits)?;
    throttle::record_failure(conn, &limits)
}

/// What a code is now, read again by [`submit`] inside its transaction (the code is one that
/// [`open`] let through, behind the throttle).
fn resolve(
    conn: &mut AnyConnection,
    secret: &SecretKey,
    code: &AccessCode,
) -> Result<CodeState, AppError> {
    let found = db::access_codes::with_round_and_draft(conn, &code_hash(secret, code))?;
    Ok(state_of(code, found))
}

/// What a code read by [`db::access_codes::with_round_and_draft`] is now.
fn state_of(code: &AccessCode, found: Option<db::access_codes::CodeWithRound>) -> CodeState {
    let Some(found) = found else {
        return CodeState::Unknown;
    };
    let db::access_codes::CodeWithRound {
        code: row,
        round,
        instrument_id,
        draft,
    } = found;
    if row.state == access_code::CodeState::Used {
        return CodeState::Used;
    }
    let now = db::now();
    // Expiry is said first: it is what the holder can act on (start again from the link).
    if row.expires_at.is_some_and(|e| e <= now) {
        return CodeState::Expired;
    }
    if !round
        .status
        .accepts_responses(now, round.opens_at, round.closes_at)
    {
        return CodeState::NotOpen(Box::new(round));
    }
    let Some(instrument_id) = instrument_id else {
        return CodeState::Unknown;
    };
    CodeState::Ready(Box::new(Session {
        code: code.clone(),
        code_id: row.id,
        round,
        unit_id: row.unit_id,
        group_id: row.group_id,
        instrument_id,
        draft,
    }))
}

/// The draft of a session, created (and the code marked started) on first use.
pub fn ensure_draft(
    conn: &mut AnyConnection,
    session: &Session,
    lang: &str,
) -> Result<DraftRow, AppError> {
    if let Some(draft) = &session.draft {
        return Ok(draft.clone());
    }
    db::write_transaction(conn, |conn| {
        if let Some(existing) = db::drafts::get(conn, session.code_id)? {
            return Ok(existing);
        }
        db::drafts::create(conn, session.code_id, &random_token(), lang, db::now())?;
        db::access_codes::set_state(
            conn,
            session.code_id,
            access_code::CodeState::Issued,
            access_code::CodeState::Started,
        )?;
        db::drafts::get(conn, session.code_id)?.ok_or(AppError::NotFound)
    })
}

/// The answers stored in a draft.
pub fn draft_answers(draft: &DraftRow) -> Answers {
    // Drafts are written only by `save_section`, so they always parse; an unreadable one
    // (manual tampering) restarts empty rather than failing the respondent.
    Answers::from_json(&draft.answers).unwrap_or_default()
}

/// Indexes of the sections shown under `answers` (a section may depend on earlier answers).
pub fn visible_sections(instrument: &Instrument, answers: &Answers) -> Vec<usize> {
    instrument
        .sections()
        .iter()
        .enumerate()
        .filter(|(_, s)| s.relevant.as_ref().is_none_or(|c| c.eval(answers)))
        .map(|(i, _)| i)
        .collect()
}

/// The answers of `section` replaced by `decoded`, with answers that are no longer relevant
/// anywhere removed (hidden questions are never stored).
pub fn merge_section(
    instrument: &Instrument,
    section: &Section,
    mut answers: Answers,
    decoded: &Answers,
) -> Answers {
    for question in &section.questions {
        for code in question.answer_codes() {
            answers.remove(code);
        }
    }
    answers.merge(decoded);
    prune_irrelevant(instrument, &mut answers);
    answers
}

/// True when the answers just posted make a question of this section relevant that was hidden
/// when the page was shown (rendered from `before`) and is still unanswered. Without
/// JavaScript such a follow-up appears only after the answer revealing it is posted, so the
/// page is shown again with it instead of moving on.
pub fn reveals_unanswered_question(section: &Section, before: &Answers, after: &Answers) -> bool {
    section.questions.iter().any(|q| {
        let was_shown = q.relevant.as_ref().is_none_or(|c| c.eval(before));
        let shown_now = q.relevant.as_ref().is_none_or(|c| c.eval(after));
        shown_now && !was_shown && q.answer_codes().iter().all(|c| after.get(c).is_none())
    })
}

/// The problems of `errors` that belong to questions of `section` the respondent could see:
/// those shown when the page was rendered (from `before`). A question revealed only by the
/// answers just posted has not been seen yet, so it is never reported as unanswered; the page
/// is shown again with it (see [`reveals_unanswered_question`]) for the respondent to answer.
pub fn errors_on_seen_questions(
    section: &Section,
    before: &Answers,
    errors: Vec<FieldError>,
) -> Vec<FieldError> {
    let unseen: Vec<&str> = section
        .questions
        .iter()
        .filter(|q| q.relevant.as_ref().is_some_and(|c| !c.eval(before)))
        .flat_map(|q| q.answer_codes())
        .collect();
    errors
        .into_iter()
        .filter(|e| !unseen.contains(&e.code.as_str()))
        .collect()
}

/// The button a respondent pressed under a section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    /// Validate the section and move on.
    Next,
    /// Keep what is valid and go back, without insisting on required answers.
    Back,
}

impl Nav {
    /// Reads the form's `nav` button: only `back` goes back.
    pub fn parse(raw: Option<&str>) -> Self {
        if raw == Some("back") {
            Nav::Back
        } else {
            Nav::Next
        }
    }
}

/// Where a respondent goes after saving a section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    /// The section with this index (0-based).
    Section(usize),
    /// The first page (Back from the first visible section).
    Intro,
    /// The review page (Next from the last visible section).
    Review,
}

/// The outcome of posting a section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SectionStep {
    /// Show the section again (with its problems, or with a follow-up question just revealed).
    Stay,
    /// Save with `resume_at` as the section to continue from, then go to `to`.
    Go {
        /// The section the draft resumes at.
        resume_at: usize,
        /// The page to go to.
        to: Destination,
    },
}

/// The navigation rule of the questionnaire: Next with problems, or with a follow-up question
/// just revealed, stays on the section; otherwise the respondent moves to the neighbouring
/// visible section in the direction pressed, past the last one to review and before the first
/// one to the first page. `visible` are the indexes of the visible sections, in order.
pub fn step_after_section(
    visible: &[usize],
    index: usize,
    nav: Nav,
    has_errors: bool,
    reveals_question: bool,
) -> SectionStep {
    if nav == Nav::Next && (has_errors || reveals_question) {
        return SectionStep::Stay;
    }
    let target = match nav {
        Nav::Back => visible.iter().rev().find(|&&i| i < index).copied(),
        Nav::Next => visible.iter().find(|&&i| i > index).copied(),
    };
    SectionStep::Go {
        resume_at: target.unwrap_or(index),
        to: match (target, nav) {
            (Some(i), _) => Destination::Section(i),
            (None, Nav::Back) => Destination::Intro,
            (None, Nav::Next) => Destination::Review,
        },
    }
}

/// Saves a draft's answers and where to resume.
pub fn save(
    conn: &mut AnyConnection,
    code_id: i64,
    answers: &Answers,
    section: usize,
    lang: &str,
) -> Result<(), AppError> {
    db::drafts::save(
        conn,
        code_id,
        &answers.to_json(),
        i32::try_from(section).unwrap_or(0),
        lang,
        db::now(),
    )?;
    Ok(())
}

/// What a submission did.
#[derive(Debug, Clone)]
pub enum Submitted {
    /// Stored (now or by an earlier identical request): the receipt number.
    Receipt(String),
    /// Required answers are missing; nothing was stored.
    Incomplete(Vec<FieldError>),
    /// The code was already used by another submission.
    AlreadyUsed,
    /// The round is not accepting answers.
    NotOpen,
    /// The code expired (a public-link code left unfinished too long).
    Expired,
    /// The submission key does not belong to this code's draft (a stale or forged form).
    Stale,
}

/// The stored form of a submission key: a replay finds its response by it, yet the key itself
/// (which sat in the draft next to the code) is not kept.
fn stored_key(submission_key: &str) -> String {
    hash_token(submission_key)
}

/// The receipt of the response stored under `submission_key`, if that submission already
/// succeeded: a replay (a double click, a reload after the code was used) gets it again.
pub fn replayed_receipt(
    conn: &mut AnyConnection,
    submission_key: &str,
) -> Result<Option<String>, AppError> {
    Ok(db::responses::receipt_for_key(
        conn,
        &stored_key(submission_key),
    )?)
}

/// A fresh receipt number: random, and unrelated to the code or the respondent.
fn new_receipt(conn: &mut AnyConnection) -> Result<String, AppError> {
    for _ in 0..5 {
        let receipt = AccessCode::generate().to_string();
        if !db::responses::receipt_exists(conn, &receipt)? {
            return Ok(receipt);
        }
    }
    Err(AppError::internal(anyhow::anyhow!(
        "could not draw a unique receipt number"
    )))
}

/// Submits the draft of `code` as a response: one transaction that marks the code used,
/// stores the response (no code, no time of day), updates the tallies and deletes the draft.
/// Replays with the same key get the same receipt; concurrent duplicates store one response.
/// `code` is one that [`open`] let through; it is looked up again inside the transaction.
pub fn submit(
    conn: &mut AnyConnection,
    secret: &SecretKey,
    code: &AccessCode,
    submission_key: &str,
    instrument: &Instrument,
    today: chrono::NaiveDate,
) -> Result<Submitted, AppError> {
    let key = stored_key(submission_key);
    db::write_transaction(conn, |conn| {
        let outcome = submit_once(conn, secret, code, submission_key, &key, instrument, today)?;
        if matches!(outcome, Submitted::Receipt(_)) {
            return Ok(outcome);
        }
        // Under PostgreSQL's READ COMMITTED a concurrent duplicate may commit between two of
        // our statements, so the code looks used or the draft gone: its response answers us.
        Ok(match replayed_receipt(conn, submission_key)? {
            Some(receipt) => Submitted::Receipt(receipt),
            None => outcome,
        })
    })
}

fn submit_once(
    conn: &mut AnyConnection,
    secret: &SecretKey,
    code: &AccessCode,
    submission_key: &str,
    key: &str,
    instrument: &Instrument,
    today: chrono::NaiveDate,
) -> Result<Submitted, AppError> {
    if let Some(receipt) = replayed_receipt(conn, submission_key)? {
        return Ok(Submitted::Receipt(receipt));
    }
    let session = match resolve(conn, secret, code)? {
        CodeState::Ready(session) => session,
        CodeState::Used => return Ok(Submitted::AlreadyUsed),
        CodeState::NotOpen(_) => return Ok(Submitted::NotOpen),
        CodeState::Expired => return Ok(Submitted::Expired),
        CodeState::Unknown => return Ok(Submitted::Stale),
    };
    let Some(draft) = session
        .draft
        .as_ref()
        .filter(|d| d.submission_key == submission_key)
    else {
        return Ok(Submitted::Stale);
    };
    let mut answers = draft_answers(draft);
    prune_irrelevant(instrument, &mut answers);
    let missing = missing_required(instrument, &answers);
    if !missing.is_empty() {
        return Ok(Submitted::Incomplete(missing));
    }
    // The conditional update is the lock: of two concurrent submissions exactly one moves
    // the code to `used`; the other finds the winner's receipt by the shared key.
    if db::access_codes::set_state(
        conn,
        session.code_id,
        access_code::CodeState::Started,
        access_code::CodeState::Used,
    )? != 1
    {
        return Ok(Submitted::AlreadyUsed);
    }
    let receipt = new_receipt(conn)?;
    let duration = (db::now() - draft.started_at).num_seconds();
    db::responses::insert(
        conn,
        &NewResponse {
            receipt: &receipt,
            submission_key: key,
            round_id: session.round.id,
            unit_id: session.unit_id,
            group_id: session.group_id,
            instrument_id: session.instrument_id,
            submitted_on: today,
            source: "web",
            duration_seconds: i32::try_from(duration).ok(),
            answers: &answers.to_json(),
        },
    )?;
    add_to_tallies(
        conn,
        session.round.id,
        session.unit_id,
        session.group_id,
        &answers,
    )?;
    db::drafts::delete(conn, session.code_id)?;
    Ok(Submitted::Receipt(receipt))
}

#[cfg(test)]
mod navigation_tests {
    use super::{Destination, Nav, SectionStep, step_after_section};

    #[test]
    fn next_skips_hidden_sections_and_ends_at_review() {
        let visible = [0, 2, 3];
        assert_eq!(
            step_after_section(&visible, 0, Nav::Next, false, false),
            SectionStep::Go {
                resume_at: 2,
                to: Destination::Section(2)
            }
        );
        assert_eq!(
            step_after_section(&visible, 3, Nav::Next, false, false),
            SectionStep::Go {
                resume_at: 3,
                to: Destination::Review
            }
        );
    }

    #[test]
    fn back_ignores_problems_and_leaves_the_first_section_for_the_first_page() {
        let visible = [0, 2, 3];
        assert_eq!(
            step_after_section(&visible, 2, Nav::Back, true, true),
            SectionStep::Go {
                resume_at: 0,
                to: Destination::Section(0)
            }
        );
        assert_eq!(
            step_after_section(&visible, 0, Nav::Back, false, false),
            SectionStep::Go {
                resume_at: 0,
                to: Destination::Intro
            }
        );
    }

    #[test]
    fn next_stays_on_a_section_with_problems_or_a_revealed_question() {
        assert_eq!(
            step_after_section(&[0, 1], 0, Nav::Next, true, false),
            SectionStep::Stay
        );
        assert_eq!(
            step_after_section(&[0, 1], 0, Nav::Next, false, true),
            SectionStep::Stay
        );
        assert_eq!(Nav::parse(Some("back")), Nav::Back);
        assert_eq!(Nav::parse(Some("next")), Nav::Next);
        assert_eq!(Nav::parse(None), Nav::Next);
    }
}

#[cfg(test)]
mod follow_up_tests {
    use super::{errors_on_seen_questions, reveals_unanswered_question};
    use crate::app::bundled::INSTRUMENTS;
    use crate::domain::answers::{AnswerValue, Answers, decode_section};
    use crate::domain::instrument::Instrument;

    #[test]
    fn a_follow_up_revealed_by_the_same_post_is_shown_but_not_reported_missing() {
        let sipas = Instrument::from_toml(INSTRUMENTS[2].bytes, INSTRUMENTS[2].name).unwrap();
        let section = sipas
            .sections()
            .iter()
            .find(|s| s.questions.iter().any(|q| q.code == "s_mode"))
            .unwrap();
        let before = Answers::new();
        let posted = [("s_used".to_owned(), "yes".to_owned())];
        let decoded = decode_section(section, &posted, &before);
        assert!(
            decoded.errors.iter().any(|e| e.code == "s_mode"),
            "the decoder alone calls it missing"
        );
        let mut after = before.clone();
        after.insert("s_used".into(), AnswerValue::Choice("yes".into()));
        assert!(reveals_unanswered_question(section, &before, &after));
        assert!(errors_on_seen_questions(section, &before, decoded.errors).is_empty());

        // Once shown, it is reported like any other question.
        let decoded = decode_section(section, &posted, &after);
        let errors = errors_on_seen_questions(section, &after, decoded.errors);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].code, "s_mode");
    }
}
