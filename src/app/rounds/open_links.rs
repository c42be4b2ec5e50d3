//! Open links: a public link per unit and group; each visitor who starts gets a code of their
//! own, and the quota counts completed responses.

use super::*;
use crate::domain::access_code::OPEN_LINK_CODE_DAYS;

/// The public token of an open link, derived from the link's id with the secret key: it can
/// be shown again to administrators, yet only its hash is stored.
pub fn open_link_token(secret: &SecretKey, open_link_id: i64) -> String {
    secret.sign("open-link", &open_link_id.to_string())[..32].to_owned()
}

/// Creates (or updates the quota of) the open link of a unit × group and returns its token.
pub fn set_open_link(
    conn: &mut AnyConnection,
    secret: &SecretKey,
    round_id: i64,
    unit_id: i64,
    group_code: &str,
    quota: i32,
    actor: Actor<'_>,
) -> Result<String> {
    if !(1..=1_000_000).contains(&quota) {
        return Err(invalid(
            "round.invalid.quota",
            &[("quota", &quota.to_string())],
        ));
    }
    db::write_transaction(conn, |conn| {
        round_or_404(conn, round_id)?;
        let group_id = db::rounds::group_id(conn, group_code)?
            .ok_or_else(|| invalid("round.invalid.unknown_group", &[("group", group_code)]))?;
        if !db::rounds::units(conn, round_id)?
            .iter()
            .any(|u| u.id == unit_id)
        {
            return Err(invalid("round.invalid.unit_not_in_round", &[]));
        }
        let id = db::open_links::upsert(conn, round_id, unit_id, group_id, quota, |id| {
            hash_token(&open_link_token(secret, id))
        })?;
        audit(
            conn,
            actor,
            "round:open_link",
            round_id,
            None,
            Some(
                serde_json::json!({ "unit_id": unit_id, "group": group_code, "quota": quota })
                    .to_string(),
            ),
        )?;
        Ok(open_link_token(secret, id))
    })
}

/// Why an open-link visitor gets no code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenLinkRefusal {
    /// No such link, or it was switched off.
    Unknown,
    /// The round was opened ahead of its window: it begins at this (UTC) time.
    Scheduled(NaiveDateTime),
    /// The round is not accepting responses now (closed, or its window is over).
    NotOpen,
    /// As many responses as the quota allows have been completed.
    QuotaReached,
}

/// Whether a public link takes respondents now: `Ok(())` to invite them to begin.
fn link_state(
    conn: &mut AnyConnection,
    token: &str,
    now: NaiveDateTime,
) -> Result<std::result::Result<db::open_links::OpenLinkRow, OpenLinkRefusal>> {
    let Some(link) = db::open_links::by_token_hash(conn, &hash_token(token))? else {
        return Ok(Err(OpenLinkRefusal::Unknown));
    };
    if !link.active {
        return Ok(Err(OpenLinkRefusal::Unknown));
    }
    let round = round_or_404(conn, link.round_id)?;
    let status = status_of(&round)?;
    if let Some(opens_at) = round
        .opens_at
        .filter(|_| status.is_scheduled(now, round.opens_at))
    {
        return Ok(Err(OpenLinkRefusal::Scheduled(opens_at)));
    }
    if !status.accepts_responses(now, round.opens_at, round.closes_at) {
        return Ok(Err(OpenLinkRefusal::NotOpen));
    }
    let (completed, _) = db::access_codes::open_link_progress(conn, link.id, now)?;
    if completed >= i64::from(link.quota) {
        return Ok(Err(OpenLinkRefusal::QuotaReached));
    }
    Ok(Ok(link))
}

/// What the start page of a public link may offer now: `Ok(())` to invite the visitor to
/// begin, or why not (with the opening date of a scheduled round). Changes nothing.
pub fn open_link_status(
    conn: &mut AnyConnection,
    token: &str,
) -> Result<std::result::Result<(), OpenLinkRefusal>> {
    Ok(link_state(conn, token, db::now())?.map(|_| ()))
}

/// Gives a public-link visitor a code of their own, to show them (they keep it to continue
/// later, on any device). Handing out a code uses up nothing: the quota counts completed
/// responses only. The code works for [`OPEN_LINK_CODE_DAYS`] days; drafts of expired codes
/// are deleted here, so an abandoned start neither lingers nor counts as in progress.
pub fn start_from_open_link(
    conn: &mut AnyConnection,
    secret: &SecretKey,
    token: &str,
) -> Result<std::result::Result<AccessCode, OpenLinkRefusal>> {
    db::write_transaction(conn, |conn| {
        let now = db::now();
        db::drafts::delete_expired(conn, now)?;
        let link = match link_state(conn, token, now)? {
            Ok(link) => link,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let (code_id, code) = issue_new_code(
            conn,
            secret,
            link.round_id,
            link.unit_id,
            link.group_id,
            CodeKind::OpenLink,
            Some(link.id),
        )?;
        db::access_codes::set_expiry(
            conn,
            code_id,
            now + chrono::Duration::days(OPEN_LINK_CODE_DAYS),
        )?;
        // `issued` counts codes handed out, for the administrator; it limits nothing.
        db::open_links::count_handed_out(conn, link.id)?;
        Ok(Ok(code))
    })
}
