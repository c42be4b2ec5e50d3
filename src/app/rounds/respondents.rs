//! Respondent lists imported into a round.

use super::*;

/// Imports a respondent list (CSV or XLSX) into a draft or open round: every row is checked,
/// including e-mails already in the round, and a file with any bad row imports nothing.
pub fn import_respondents(
    conn: &mut AnyConnection,
    round_id: i64,
    file_name: &str,
    bytes: &[u8],
    actor: Actor<'_>,
) -> Result<usize> {
    db::write_transaction(conn, |conn| {
        let round = round_or_404(conn, round_id)?;
        if !matches!(status_of(&round)?, RoundStatus::Draft | RoundStatus::Open) {
            return Err(invalid("round.invalid.respondents_state", &[]));
        }
        let units = db::rounds::units(conn, round_id)?;
        let by_code: HashMap<String, i64> = units
            .iter()
            .map(|u| (u.code.to_lowercase(), u.id))
            .collect();
        let canonical: HashMap<String, String> = units
            .iter()
            .map(|u| (u.code.to_lowercase(), u.code.clone()))
            .collect();
        let unit_lookup = |input: &str| canonical.get(&input.trim().to_lowercase()).cloned();
        let groups: HashMap<String, i64> = db::rounds::all_groups(conn)?
            .into_iter()
            .map(|(id, code)| (code, id))
            .collect();
        let xlsx =
            file_name.to_ascii_lowercase().ends_with(".xlsx") || bytes.starts_with(b"PK\x03\x04");
        let rows = if xlsx {
            parse_respondent_xlsx(bytes, file_name, &unit_lookup, &StandardGroups)
        } else {
            parse_respondent_csv(bytes, file_name, &unit_lookup, &StandardGroups)
        }
        .map_err(RoundError::Rows)?;
        let existing: HashSet<String> = db::respondents::emails_in_round(conn, round_id)?
            .into_iter()
            .collect();
        let duplicates: Vec<RowError> = rows
            .iter()
            .filter_map(|r| {
                let email = r.email.as_ref()?;
                existing.contains(email).then(|| {
                    RowError::at(
                        file_name,
                        r.row,
                        Some("email".to_owned()),
                        format!("'{email}' is already invited to this round"),
                    )
                })
            })
            .collect();
        if !duplicates.is_empty() {
            return Err(RoundError::Rows(duplicates));
        }
        let now = db::now();
        let new: Vec<NewRespondent<'_>> = rows
            .iter()
            .filter_map(|r| {
                Some(NewRespondent {
                    round_id,
                    unit_id: *by_code.get(&r.unit.to_lowercase())?,
                    group_id: *groups.get(&r.group)?,
                    name: &r.name,
                    email: r.email.as_deref(),
                    phone: r.phone.as_deref(),
                    position: r.position.as_deref(),
                    level: r.level.as_deref(),
                    created_at: now,
                })
            })
            .collect();
        if new.len() != rows.len() {
            return Err(invalid("round.invalid.file_not_in_round", &[]));
        }
        let inserted = db::respondents::insert_all(conn, &new)?;
        // The audit entry records the import, never the personal data in it.
        audit(
            conn,
            actor,
            "round:import_respondents",
            round_id,
            None,
            Some(serde_json::json!({ "file": file_name, "rows": inserted }).to_string()),
        )?;
        Ok(inserted)
    })
}
