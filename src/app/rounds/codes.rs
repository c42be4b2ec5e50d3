//! Access codes: issued once in clear, stored only as keyed hashes.

use super::*;

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
    /// The code.
    pub code: AccessCode,
    /// Invitation id (for e-mail).
    pub invitation_id: i64,
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
    // A collision between two random 44-bit codes is astronomically unlikely, but the unique
    // index would refuse it; try a fresh code rather than fail.
    for _ in 0..5 {
        let code = AccessCode::generate();
        let hash = code_hash(secret, &code);
        if db::access_codes::by_hash(conn, &hash)?.is_some() {
            continue;
        }
        let id = db::access_codes::insert(
            conn,
            round_id,
            unit_id,
            group_id,
            &hash,
            kind,
            open_link_id,
            db::now(),
        )?;
        return Ok((id, code));
    }
    Err(RoundError::App(AppError::internal(anyhow::anyhow!(
        "could not draw a unique access code"
    ))))
}

/// Gives a code to every respondent of the round who has none yet (all, or only those with
/// an e-mail address, optionally of one unit). The codes are returned for printing or mailing
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
        let units: HashMap<i64, UnitRow> = db::rounds::units(conn, round_id)?
            .into_iter()
            .map(|u| (u.id, u))
            .collect();
        let groups: HashMap<i64, String> = db::rounds::all_groups(conn)?.into_iter().collect();
        let invitees =
            db::respondents::without_invitation(conn, round_id, with_email_only, unit_id)?;
        let now = db::now();
        let mut issued = Vec::with_capacity(invitees.len());
        for invitee in invitees {
            let (code_id, code) = issue_new_code(
                conn,
                secret,
                round_id,
                invitee.unit_id,
                invitee.group_id,
                CodeKind::Invitation,
                None,
            )?;
            let invitation_id =
                db::respondents::insert_invitation(conn, invitee.respondent_id, code_id, now)?;
            let unit = units.get(&invitee.unit_id);
            issued.push(IssuedCode {
                name: invitee.name,
                email: invitee.email,
                phone: invitee.phone,
                unit_code: unit.map(|u| u.code.clone()).unwrap_or_default(),
                unit_name: unit.map(|u| u.name_vi.clone()).unwrap_or_default(),
                group_code: groups.get(&invitee.group_id).cloned().unwrap_or_default(),
                code,
                invitation_id,
            });
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

/// Issued codes as a CSV file (UTF-8 with BOM): one respondent per line with code and link.
pub fn code_sheet_csv(
    base_url: &str,
    codes: &[IssuedCode],
) -> std::result::Result<Vec<u8>, AppError> {
    let rows = codes.iter().map(|c| {
        vec![
            c.name.clone(),
            c.phone.clone().unwrap_or_default(),
            c.email.clone().unwrap_or_default(),
            c.unit_code.clone(),
            c.group_code.clone(),
            c.code.to_string(),
            code_link(base_url, &c.code),
        ]
    });
    crate::app::export::csv_with_bom(
        &["name", "phone", "email", "unit", "group", "code", "link"],
        rows,
    )
    .map_err(AppError::internal)
}
