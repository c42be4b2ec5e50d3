//! Access codes: issued once in clear, stored only as keyed hashes.

use super::*;
use crate::i18n::{Lang, t};

/// The keyed hash under which an access code is stored. Keyed (HMAC) rather than a plain
/// hash, so a copy of the database alone does not let anyone test guesses offline.
pub fn code_hash(secret: &SecretKey, code: &AccessCode) -> String {
    secret.sign("access-code", code.as_canonical())
}

/// The link that opens the questionnaire for a code.
pub fn code_link(base_url: &str, code: &AccessCode) -> String {
    format!("{base_url}/s/{}", code.as_canonical())
}

/// A code handed out now (the only moment it exists in clear).
#[derive(Debug, Clone)]
pub struct IssuedCode {
    /// Respondent name.
    pub name: String,
    /// E-mail, if any.
    pub email: Option<String>,
    /// Phone, if any.
    pub phone: Option<String>,
    /// Unit code.
    pub unit_code: String,
    /// Unit name (Vietnamese).
    pub unit_name: String,
    /// Group code.
    pub group_code: String,
    /// Group name (Vietnamese), as the pages show it.
    pub group_name: String,
    /// The code.
    pub code: AccessCode,
    /// Invitation id (for e-mail).
    pub invitation_id: i64,
}

/// Unit and group names of a round, to print beside codes.
struct Names {
    units: HashMap<i64, UnitRow>,
    groups: HashMap<i64, (String, String)>,
}

impl Names {
    fn load(conn: &mut AnyConnection, round_id: i64) -> Result<Names> {
        let units = db::rounds::units(conn, round_id)?
            .into_iter()
            .map(|u| (u.id, u))
            .collect();
        let names: HashMap<String, String> = db::rounds::group_names(conn)?
            .into_iter()
            .map(|(code, vi, _)| (code, vi))
            .collect();
        let groups = db::rounds::all_groups(conn)?
            .into_iter()
            .map(|(id, code)| {
                let name = names.get(&code).cloned().unwrap_or_else(|| code.clone());
                (id, (code, name))
            })
            .collect();
        Ok(Names { units, groups })
    }

    /// The slip of a code issued to `contact`.
    fn issued(
        &self,
        contact: db::respondents::Contact,
        code: AccessCode,
        invitation_id: i64,
    ) -> IssuedCode {
        let unit = self.units.get(&contact.unit_id);
        let group = self.groups.get(&contact.group_id);
        IssuedCode {
            name: contact.name,
            email: contact.email,
            phone: contact.phone,
            unit_code: unit.map(|u| u.code.clone()).unwrap_or_default(),
            unit_name: unit.map(|u| u.name_vi.clone()).unwrap_or_default(),
            group_code: group.map(|g| g.0.clone()).unwrap_or_default(),
            group_name: group.map(|g| g.1.clone()).unwrap_or_default(),
            code,
            invitation_id,
        }
    }
}

pub(super) fn issue_new_code(
    conn: &mut AnyConnection,
    secret: &SecretKey,
    round_id: i64,
    unit_id: i64,
    group_id: i64,
    kind: CodeKind,
    open_link_id: Option<i64>,
) -> Result<(i64, AccessCode)> {
    let code = fresh_code(conn, secret)?;
    let id = db::access_codes::insert(
        conn,
        round_id,
        unit_id,
        group_id,
        &code_hash(secret, &code),
        kind,
        open_link_id,
        db::now(),
    )?;
    Ok((id, code))
}

/// Gives a code to every respondent of the round who has none yet (all, or only those with
/// an e-mail address, optionally of one unit); when the round has a committed sample, only to
/// the respondents in it ([`sampled_only`]). The codes are returned for printing or mailing
/// and are never stored in clear.
pub fn issue_codes(
    conn: &mut AnyConnection,
    secret: &SecretKey,
    round_id: i64,
    with_email_only: bool,
    unit_id: Option<i64>,
    actor: Actor<'_>,
) -> Result<Vec<IssuedCode>> {
    db::write_transaction(conn, |conn| {
        let round = round_or_404(conn, round_id)?;
        if !matches!(status_of(&round)?, RoundStatus::Draft | RoundStatus::Open) {
            return Err(invalid("round.invalid.codes_state", &[]));
        }
        // With a committed sample, only those in it get codes (refused before the draw).
        let sampled = sampled_only(conn, round_id)?;
        let names = Names::load(conn, round_id)?;
        let mut invitees =
            db::respondents::without_invitation(conn, round_id, with_email_only, unit_id)?;
        if let Some(sampled) = &sampled {
            invitees.retain(|i| sampled.contains(&i.contact.respondent_id));
        }
        let now = db::now();
        let mut issued = Vec::with_capacity(invitees.len());
        for invitee in invitees {
            let (code_id, code) = issue_new_code(
                conn,
                secret,
                round_id,
                invitee.contact.unit_id,
                invitee.contact.group_id,
                CodeKind::Invitation,
                None,
            )?;
            let invitation_id = db::respondents::insert_invitation(
                conn,
                invitee.contact.respondent_id,
                code_id,
                now,
            )?;
            issued.push(names.issued(invitee.contact, code, invitation_id));
        }
        audit(
            conn,
            actor,
            "round:issue_codes",
            round_id,
            None,
            Some(
                serde_json::json!({ "codes": issued.len(), "email_only": with_email_only })
                    .to_string(),
            ),
        )?;
        Ok(issued)
    })
}

/// Which respondents get a new code in place of the one they hold.
#[derive(Debug, Clone)]
pub enum ReissueTarget {
    /// These respondents (ticked on the list, or one respondent).
    Respondents(Vec<i64>),
    /// Everyone of one unit and one group.
    UnitGroup {
        /// Unit id.
        unit_id: i64,
        /// Group code.
        group: String,
    },
}

/// The outcome of a reissue: the new codes (shown once) and who was left alone.
#[derive(Debug, Clone)]
pub struct Reissued {
    /// The new codes, one per respondent whose code was replaced.
    pub codes: Vec<IssuedCode>,
    /// Respondents whose code was already used to submit: a used code is never replaced.
    pub already_submitted: usize,
}

/// Replaces the access code of the chosen respondents by a new one: the old code stops
/// working at once, a started draft stays with the respondent (it hangs on the code's row,
/// whose hash alone changes), and a code already used to submit is left alone. Audited with
/// the count, units and groups, never the codes.
pub fn reissue_codes(
    conn: &mut AnyConnection,
    secret: &SecretKey,
    round_id: i64,
    target: &ReissueTarget,
    actor: Actor<'_>,
) -> Result<Reissued> {
    db::write_transaction(conn, |conn| {
        let round = round_or_404(conn, round_id)?;
        if !matches!(status_of(&round)?, RoundStatus::Draft | RoundStatus::Open) {
            return Err(invalid("round.invalid.codes_state", &[]));
        }
        let filter = match target {
            ReissueTarget::Respondents(ids) if ids.is_empty() => {
                return Err(invalid("round.invalid.reissue_none_chosen", &[]));
            }
            ReissueTarget::Respondents(ids) => db::respondents::HolderFilter {
                respondent_ids: Some(ids.clone()),
                ..Default::default()
            },
            ReissueTarget::UnitGroup { unit_id, group } => {
                let group_id = db::rounds::group_id(conn, group)?
                    .ok_or_else(|| invalid("round.invalid.unknown_group", &[("group", group)]))?;
                db::respondents::HolderFilter {
                    respondent_ids: None,
                    unit_id: Some(*unit_id),
                    group_id: Some(group_id),
                }
            }
        };
        let holders = db::respondents::code_holders(conn, round_id, &filter)?;
        if holders.is_empty() {
            return Err(invalid("round.invalid.reissue_nobody", &[]));
        }
        let names = Names::load(conn, round_id)?;
        let mut codes = Vec::with_capacity(holders.len());
        let mut already_submitted = 0;
        let mut units = BTreeMap::<String, usize>::new();
        let mut groups = BTreeMap::<String, usize>::new();
        for holder in holders {
            if holder.code_state == CodeState::Used {
                already_submitted += 1;
                continue;
            }
            let code = fresh_code(conn, secret)?;
            if db::access_codes::replace_hash(
                conn,
                holder.access_code_id,
                &code_hash(secret, &code),
            )? != 1
            {
                // Submitted between the listing and now, inside this transaction's view.
                already_submitted += 1;
                continue;
            }
            let issued = names.issued(holder.contact, code, holder.invitation_id);
            *units.entry(issued.unit_code.clone()).or_default() += 1;
            *groups.entry(issued.group_code.clone()).or_default() += 1;
            codes.push(issued);
        }
        audit(
            conn,
            actor,
            "round:reissue_codes",
            round_id,
            None,
            Some(
                serde_json::json!({
                    "codes": codes.len(),
                    "already_submitted": already_submitted,
                    "units": units,
                    "groups": groups,
                    "whole_unit_group": matches!(target, ReissueTarget::UnitGroup { .. }),
                })
                .to_string(),
            ),
        )?;
        Ok(Reissued {
            codes,
            already_submitted,
        })
    })
}

/// A new random code whose hash is not taken yet. A collision between two random 44-bit
/// codes is astronomically unlikely, but the unique index would refuse it: draw again rather
/// than fail.
fn fresh_code(conn: &mut AnyConnection, secret: &SecretKey) -> Result<AccessCode> {
    for _ in 0..5 {
        let code = AccessCode::generate();
        if db::access_codes::by_hash(conn, &code_hash(secret, &code))?.is_none() {
            return Ok(code);
        }
    }
    Err(RoundError::App(AppError::internal(anyhow::anyhow!(
        "could not draw a unique access code"
    ))))
}

/// A respondent on the reissue page: who, where, and how far their code has come.
#[derive(Debug, Clone)]
pub struct CodeHolderLine {
    /// Respondent id.
    pub respondent_id: i64,
    /// Full name.
    pub name: String,
    /// Unit name (Vietnamese).
    pub unit_name: String,
    /// Group code.
    pub group_code: String,
    /// The code's state; a used one cannot be reissued.
    pub state: CodeState,
}

/// The respondents of a round who hold a code, optionally of one unit or only one respondent
/// (a link from that respondent's line), for the reissue page.
pub fn code_holders(
    conn: &mut AnyConnection,
    round_id: i64,
    unit_id: Option<i64>,
    respondent_id: Option<i64>,
) -> Result<Vec<CodeHolderLine>> {
    round_or_404(conn, round_id)?;
    let names = Names::load(conn, round_id)?;
    let filter = db::respondents::HolderFilter {
        unit_id,
        respondent_ids: respondent_id.map(|id| vec![id]),
        group_id: None,
    };
    Ok(db::respondents::code_holders(conn, round_id, &filter)?
        .into_iter()
        .map(|h| CodeHolderLine {
            respondent_id: h.contact.respondent_id,
            name: h.contact.name,
            unit_name: names
                .units
                .get(&h.contact.unit_id)
                .map(|u| u.name_vi.clone())
                .unwrap_or_default(),
            group_code: names
                .groups
                .get(&h.contact.group_id)
                .map(|g| g.0.clone())
                .unwrap_or_default(),
            state: h.code_state,
        })
        .collect())
}

/// Issued codes as a CSV file (UTF-8 with BOM): one respondent per line with unit and group
/// by code and by name, the code and its link; headers in `lang`.
pub fn code_sheet_csv(
    base_url: &str,
    codes: &[IssuedCode],
    lang: Lang,
) -> std::result::Result<Vec<u8>, AppError> {
    let rows = codes.iter().map(|c| {
        vec![
            c.name.clone(),
            c.phone.clone().unwrap_or_default(),
            c.email.clone().unwrap_or_default(),
            c.unit_code.clone(),
            c.unit_name.clone(),
            c.group_code.clone(),
            c.group_name.clone(),
            c.code.to_string(),
            code_link(base_url, &c.code),
        ]
    });
    let headers = [
        "codes.csv.name",
        "codes.csv.phone",
        "codes.csv.email",
        "codes.csv.unit_code",
        "codes.csv.unit",
        "codes.csv.group_code",
        "codes.csv.group",
        "codes.csv.code",
        "codes.csv.link",
    ]
    .map(|key| t(lang, key));
    crate::app::export::csv_with_bom(&headers, rows).map_err(AppError::internal)
}

/// The code CSV as a `data:` URI, so the sheet page offers it as a download without storing
/// the codes anywhere or needing JavaScript.
pub fn code_sheet_data_uri(
    base_url: &str,
    codes: &[IssuedCode],
    lang: Lang,
) -> std::result::Result<String, AppError> {
    use base64::Engine as _;
    let bytes = code_sheet_csv(base_url, codes, lang)?;
    Ok(format!(
        "data:text/csv;charset=utf-8;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    ))
}

/// Issues codes for a code sheet: the round with the codes handed out, or, when there were
/// none to hand out, the reason as the refusal ([`nothing_to_issue`]).
pub fn issue_sheet(
    conn: &mut AnyConnection,
    secret: &SecretKey,
    round_id: i64,
    unit_id: Option<i64>,
    actor: Actor<'_>,
) -> Result<(RoundRow, Vec<IssuedCode>)> {
    let round = round_or_404(conn, round_id)?;
    let codes = issue_codes(conn, secret, round_id, false, unit_id, actor)?;
    if codes.is_empty() {
        // "0 codes issued" would leave the administrator guessing: say why, and where to go
        // instead.
        return Err(nothing_to_issue(conn, round_id, unit_id)?);
    }
    Ok((round, codes))
}

/// Reissues codes for a code sheet: the round with the outcome of [`reissue_codes`].
pub fn reissue_sheet(
    conn: &mut AnyConnection,
    secret: &SecretKey,
    round_id: i64,
    target: &ReissueTarget,
    actor: Actor<'_>,
) -> Result<(RoundRow, Reissued)> {
    let round = round_or_404(conn, round_id)?;
    let reissued = reissue_codes(conn, secret, round_id, target, actor)?;
    Ok((round, reissued))
}

/// What the reissue page shows: the round, its units (for the unit × group form) and the code
/// holders ([`code_holders`]).
pub fn reissue_page(
    conn: &mut AnyConnection,
    round_id: i64,
    unit_id: Option<i64>,
    respondent_id: Option<i64>,
) -> Result<(RoundRow, Vec<db::units::UnitRow>, Vec<CodeHolderLine>)> {
    let round = round_or_404(conn, round_id)?;
    let units = db::rounds::units(conn, round_id)?;
    let holders = code_holders(conn, round_id, unit_id, respondent_id)?;
    Ok((round, units, holders))
}

/// Why "issue codes" handed out none: nobody is listed (in the chosen unit), or everyone
/// already holds a code (and reissuing is the way to give someone a new one).
pub fn nothing_to_issue(
    conn: &mut AnyConnection,
    round_id: i64,
    unit_id: Option<i64>,
) -> Result<RoundError> {
    let filter = db::respondents::HolderFilter {
        unit_id,
        ..Default::default()
    };
    let holders = db::respondents::code_holders(conn, round_id, &filter)?;
    Ok(if holders.is_empty() {
        invalid("round.invalid.codes_nobody_listed", &[])
    } else {
        invalid("round.invalid.codes_all_issued", &[])
    })
}
