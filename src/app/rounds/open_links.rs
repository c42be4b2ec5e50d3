//! Open links: a public link per unit and group that hands out codes up to a quota.

use super::*;

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

/// Why an open-link visitor got no code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenLinkRefusal {
    /// No such link, or it was switched off.
    Unknown,
    /// The round is not accepting responses now.
    NotOpen,
    /// The quota is used up.
    QuotaReached,
}

/// Gives an open-link visitor a one-time code, counting it against the link's quota.
pub fn start_from_open_link(
    conn: &mut AnyConnection,
    secret: &SecretKey,
    token: &str,
) -> Result<std::result::Result<AccessCode, OpenLinkRefusal>> {
    db::write_transaction(conn, |conn| {
        let Some(link) = db::open_links::by_token_hash(conn, &hash_token(token))? else {
            return Ok(Err(OpenLinkRefusal::Unknown));
        };
        if !link.active {
            return Ok(Err(OpenLinkRefusal::Unknown));
        }
        let round = round_or_404(conn, link.round_id)?;
        if !status_of(&round)?.accepts_responses(db::now(), round.opens_at, round.closes_at) {
            return Ok(Err(OpenLinkRefusal::NotOpen));
        }
        if !db::open_links::take_one(conn, link.id)? {
            return Ok(Err(OpenLinkRefusal::QuotaReached));
        }
        let (_, code) = issue_new_code(
            conn,
            secret,
            link.round_id,
            link.unit_id,
            link.group_id,
            CodeKind::OpenLink,
            Some(link.id),
        )?;
        Ok(Ok(code))
    })
}
