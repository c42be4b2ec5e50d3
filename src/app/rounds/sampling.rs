//! Verifiable random samples of respondents (docs/sampling.md): commit the frame, the sizes
//! and the source of the seed; draw with the seed; replace sampled respondents from the
//! reserve in order; verify a draw against a frame file. Code issuing asks [`sampled_only`]
//! whom it may give codes to.

use super::*;
use crate::db::samples::{self as store, CommitmentRow};
use crate::domain::access_code::CodeState;
use crate::domain::sampling::{
    self as sampling, Dispositions, Frame, FrameMember, Listed, Outcome, Rate, ReplaceError,
    ReplacementReason, Seed, SeedError, SlotStatus, Stratum,
};

/// Longest seed source accepted, in characters.
pub const MAX_SEED_SOURCE_CHARS: usize = 500;

/// Where the sample sizes come from.
#[derive(Debug, Clone, Copy)]
pub enum SampleSizes<'a> {
    /// A CSV file `unit,group,size` naming every unit × group of the frame.
    File {
        /// The file's name, for error messages.
        name: &'a str,
        /// Its bytes.
        bytes: &'a [u8],
    },
    /// The round's targets over an expected response rate ([`sampling::sample_size`]).
    Rate(Rate),
}

/// A unit × group of a committed sample, as the command line and pages show it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SampleStratum {
    /// Row id (the sample page lists a unit × group's members by it).
    pub id: i64,
    /// Unit code.
    pub unit: String,
    /// Group code.
    pub group: String,
    /// Respondents in the frame.
    pub frame_size: i64,
    /// Sample size committed.
    pub sample_size: i64,
    /// The unit × group's frame hash.
    pub frame_hash: String,
    /// In the sample now (drawn, or called up from the reserve).
    pub sampled: usize,
    /// Replaced so far.
    pub replaced: usize,
    /// Still in the reserve.
    pub reserve: usize,
}

/// A round's sample: the commitment and, per unit × group, where it stands.
#[derive(Debug, Clone)]
pub struct SampleState {
    /// The commitment (with the seed once drawn).
    pub commitment: CommitmentRow,
    /// The units × groups in byte order of (unit, group).
    pub strata: Vec<SampleStratum>,
}

/// A replacement made: who was called up from the reserve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replacement {
    /// The respondent called up (none when deleted from the list since the commitment).
    pub respondent_id: Option<i64>,
    /// Their place in drawn order (from 0).
    pub position: i64,
}

/// How a unit × group of a frame file compares with the round's sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StratumCheck {
    /// Unit code.
    pub unit: String,
    /// Group code.
    pub group: String,
    /// Respondents of the unit × group in the file.
    pub in_file: usize,
    /// Respondents of it in the committed frame.
    pub committed: i64,
    /// The file's hash is the committed hash.
    pub frame_matches: bool,
    /// The draw recomputed from the file and the seed is the draw made, member by member.
    pub draw_matches: bool,
}

impl StratumCheck {
    /// Frame and draw both match.
    pub fn matches(&self) -> bool {
        self.frame_matches && self.draw_matches
    }
}

/// The outcome of a verification.
#[derive(Debug, Clone)]
pub struct Verification {
    /// The seed given is the seed the draw used.
    pub seed_matches: bool,
    /// Every unit × group of the file or of the commitment.
    pub strata: Vec<StratumCheck>,
}

impl Verification {
    /// Everything matches.
    pub fn matches(&self) -> bool {
        self.seed_matches && self.strata.iter().all(StratumCheck::matches)
    }
}

fn corrupt(what: &str) -> RoundError {
    RoundError::App(AppError::internal(anyhow::anyhow!("unknown stored {what}")))
}

fn seed_refusal(e: SeedError) -> RoundError {
    match e {
        SeedError::Empty => invalid("round.invalid.seed_empty", &[]),
        SeedError::TooLong => invalid(
            "round.invalid.seed_too_long",
            &[("max", &sampling::MAX_SEED_CHARS.to_string())],
        ),
    }
}

/// The frame of a round as listed now: every respondent in list order, keyed as
/// docs/sampling.md says, with `(respondent id, unit id, group id)`.
fn current_frame(conn: &mut AnyConnection, round_id: i64) -> Result<Frame<(i64, i64, i64)>> {
    let units: HashMap<i64, String> = db::rounds::units(conn, round_id)?
        .into_iter()
        .map(|u| (u.id, u.code))
        .collect();
    let groups: HashMap<i64, String> = db::rounds::all_groups(conn)?.into_iter().collect();
    let roster = db::respondents::roster(conn, round_id)?;
    let mut listed = Vec::with_capacity(roster.len());
    for r in &roster {
        let (Some(unit), Some(group)) = (
            units.get(&r.contact.unit_id),
            groups.get(&r.contact.group_id),
        ) else {
            return Err(corrupt("unit or group of a respondent"));
        };
        listed.push((
            Listed {
                unit,
                group,
                name: &r.contact.name,
                email: r.contact.email.as_deref(),
                phone: r.contact.phone.as_deref(),
            },
            (
                r.contact.respondent_id,
                r.contact.unit_id,
                r.contact.group_id,
            ),
        ));
    }
    Ok(Frame::build(listed))
}

/// The sample size of each unit × group of `frame`, from a file or the targets.
fn sizes_for(
    conn: &mut AnyConnection,
    round_id: i64,
    frame: &Frame<(i64, i64, i64)>,
    sizes: SampleSizes<'_>,
) -> Result<BTreeMap<Stratum, u64>> {
    let mut out = BTreeMap::new();
    match sizes {
        SampleSizes::File { name, bytes } => {
            let lookups = round_lookups(conn, round_id)?;
            let rows = sampling::parse_sizes_csv(bytes, name, &lookups.units, &lookups.groups)
                .map_err(RoundError::Rows)?;
            for row in rows {
                let stratum = (row.unit, row.group);
                if !frame.strata.contains_key(&stratum) {
                    return Err(invalid(
                        "round.invalid.sample_size_no_frame",
                        &[("unit", &stratum.0), ("group", &stratum.1)],
                    ));
                }
                out.insert(stratum, row.size);
            }
        }
        SampleSizes::Rate(rate) => {
            let targets: HashMap<(i64, i64), u64> = db::rounds::targets(conn, round_id)?
                .into_iter()
                .map(|(u, g, t)| ((u, g), u64::try_from(t).unwrap_or(0)))
                .collect();
            for (stratum, members) in &frame.strata {
                let (_, unit_id, group_id) = members[0].item;
                let target = targets.get(&(unit_id, group_id)).copied().unwrap_or(0);
                if target == 0 {
                    return Err(invalid(
                        "round.invalid.sample_no_target",
                        &[("unit", &stratum.0), ("group", &stratum.1)],
                    ));
                }
                let frame_size = members.len() as u64;
                out.insert(
                    stratum.clone(),
                    sampling::sample_size(target, rate, frame_size),
                );
            }
        }
    }
    if let Some(missing) = frame.strata.keys().find(|s| !out.contains_key(*s)) {
        return Err(invalid(
            "round.invalid.sample_size_missing",
            &[("unit", &missing.0), ("group", &missing.1)],
        ));
    }
    Ok(out)
}

/// Commits a round's sample before anyone knows the seed: the frame as listed now (stored
/// with its keys, so later corrections of the list cannot change the draw), its hash, the
/// size of each unit × group (a size beyond the frame takes everyone) and where the seed will
/// come from. Only for a draft or open round in which no code was issued yet; once only.
/// Audited with the hashes and sizes.
pub fn commit_sample(
    conn: &mut AnyConnection,
    round_id: i64,
    sizes: SampleSizes<'_>,
    seed_source: &str,
    actor: Actor<'_>,
) -> Result<SampleState> {
    db::write_transaction(conn, |conn| {
        let round = round_or_404(conn, round_id)?;
        if !matches!(status_of(&round)?, RoundStatus::Draft | RoundStatus::Open) {
            return Err(invalid("round.invalid.sample_state", &[]));
        }
        if store::commitment(conn, round_id)?.is_some() {
            return Err(invalid("round.invalid.sample_committed", &[]));
        }
        let seed_source = seed_source.trim();
        if seed_source.is_empty() || seed_source.chars().count() > MAX_SEED_SOURCE_CHARS {
            return Err(invalid(
                "round.invalid.seed_source",
                &[("max", &MAX_SEED_SOURCE_CHARS.to_string())],
            ));
        }
        if store::invitations_in_round(conn, round_id)? > 0 {
            return Err(invalid("round.invalid.sample_after_codes", &[]));
        }
        let frame = current_frame(conn, round_id)?;
        if frame.strata.is_empty() {
            return Err(invalid("round.invalid.sample_no_frame", &[]));
        }
        let sizes = sizes_for(conn, round_id, &frame, sizes)?;
        let hashes = frame.stratum_hashes();
        let frame_hash = sampling::frame_hash(&hashes);
        store::insert_commitment(
            conn,
            round_id,
            &frame_hash,
            seed_source,
            actor.label,
            db::now(),
        )?;
        let mut audited = Vec::with_capacity(frame.strata.len());
        for (stratum, members) in &frame.strata {
            let (_, unit_id, group_id) = members[0].item;
            let frame_size = members.len();
            let size = sizes[stratum].min(frame_size as u64);
            let id = store::insert_stratum(
                conn,
                round_id,
                unit_id,
                group_id,
                frame_size as i64,
                size as i64,
                &hashes[stratum],
            )?;
            let rows: Vec<(i64, &str)> =
                members.iter().map(|m| (m.item.0, m.key.as_str())).collect();
            store::insert_members(conn, id, &rows)?;
            audited.push(serde_json::json!({
                "unit": stratum.0, "group": stratum.1, "frame": frame_size, "size": size,
                "hash": hashes[stratum],
            }));
        }
        audit(
            conn,
            actor,
            "round:commit_sample",
            round_id,
            None,
            Some(
                serde_json::json!({
                    "frame_hash": frame_hash,
                    "seed_source": seed_source,
                    "strata": audited,
                })
                .to_string(),
            ),
        )?;
        sample_state(conn, round_id)?.ok_or_else(|| corrupt("commitment"))
    })
}

/// Draws a committed sample with `seed` (normalised as docs/sampling.md says): within each
/// unit × group the committed frame is ordered by HMAC-SHA256(seed, key); the first n are the
/// sample, the rest the reserve. Once only; audited with the seed.
pub fn draw_sample(
    conn: &mut AnyConnection,
    round_id: i64,
    seed: &str,
    actor: Actor<'_>,
) -> Result<SampleState> {
    db::write_transaction(conn, |conn| {
        round_or_404(conn, round_id)?;
        let commitment = store::commitment(conn, round_id)?
            .ok_or_else(|| invalid("round.invalid.sample_not_committed", &[]))?;
        if commitment.seed.is_some() {
            return Err(invalid("round.invalid.sample_drawn", &[]));
        }
        let seed = Seed::parse(seed).map_err(seed_refusal)?;
        let mut audited = Vec::new();
        for stratum in store::strata(conn, round_id)? {
            let members: Vec<FrameMember<i64>> = store::members(conn, stratum.id)?
                .into_iter()
                .map(|m| FrameMember {
                    key: m.respondent_key,
                    item: m.id,
                })
                .collect();
            let size = usize::try_from(stratum.sample_size).unwrap_or(0);
            let drawn = sampling::draw(members, &seed, size);
            for (position, member) in drawn.order.iter().enumerate() {
                let status = if position < drawn.size {
                    SlotStatus::Sampled
                } else {
                    SlotStatus::Reserve
                };
                store::set_drawn(conn, member.item, position as i64, status)?;
            }
            audited.push(serde_json::json!({
                "unit": stratum.unit_code, "group": stratum.group_code,
                "sampled": drawn.size, "reserve": drawn.order.len() - drawn.size,
            }));
        }
        if store::record_draw(conn, round_id, seed.as_str(), actor.label, db::now())? != 1 {
            return Err(invalid("round.invalid.sample_drawn", &[]));
        }
        audit(
            conn,
            actor,
            "round:draw_sample",
            round_id,
            None,
            Some(serde_json::json!({ "seed": seed.as_str(), "strata": audited }).to_string()),
        )?;
        sample_state(conn, round_id)?.ok_or_else(|| corrupt("commitment"))
    })
}

/// Replaces a sampled respondent for `reason` by the next member of their unit × group's
/// reserve, in drawn order; the replaced respondent's code, when unused, is revoked. Audited
/// with both respondents, the reason and the position.
pub fn replace_sampled(
    conn: &mut AnyConnection,
    round_id: i64,
    respondent_id: i64,
    reason: ReplacementReason,
    actor: Actor<'_>,
) -> Result<Replacement> {
    db::write_transaction(conn, |conn| {
        round_or_404(conn, round_id)?;
        let drawn = store::commitment(conn, round_id)?.is_some_and(|c| c.seed.is_some());
        if !drawn {
            return Err(invalid("round.invalid.sample_not_drawn", &[]));
        }
        let (stratum_id, member_id) = store::member_of(conn, round_id, respondent_id)?
            .ok_or_else(|| invalid("round.invalid.sample_not_member", &[]))?;
        let members = store::members(conn, stratum_id)?;
        let mut slots = members
            .iter()
            .map(store::MemberRow::slot_status)
            .collect::<diesel::QueryResult<Vec<_>>>()?;
        let at = members
            .iter()
            .position(|m| m.id == member_id)
            .ok_or_else(|| corrupt("sample member"))?;
        let next = sampling::replace(&mut slots, at, reason).map_err(|e| match e {
            ReplaceError::NotSampled => invalid("round.invalid.sample_not_sampled", &[]),
            ReplaceError::ReserveExhausted => {
                invalid("round.invalid.sample_reserve_exhausted", &[])
            }
        })?;
        store::set_status(
            conn,
            member_id,
            SlotStatus::Replaced(reason),
            Some(db::now()),
        )?;
        store::set_status(conn, members[next].id, SlotStatus::Sampled, None)?;
        // A replaced respondent's unused code stops working, as when they leave the list: a
        // refusal or an ineligible person must not answer in the replacement's stead.
        let revoked = db::respondents::revoke_unused_code(conn, respondent_id)?;
        let replacement = Replacement {
            respondent_id: members[next].respondent_id,
            position: members[next].position.unwrap_or(next as i64),
        };
        audit(
            conn,
            actor,
            "round:replace_sampled",
            round_id,
            Some(serde_json::json!({ "respondent": respondent_id }).to_string()),
            Some(
                serde_json::json!({
                    "reason": reason.code(),
                    "code_revoked": revoked,
                    "replacement": replacement.respondent_id,
                    "position": replacement.position,
                })
                .to_string(),
            ),
        )?;
        Ok(replacement)
    })
}

/// A round's sample as it stands, or `None` when none was committed.
pub fn sample_state(conn: &mut AnyConnection, round_id: i64) -> Result<Option<SampleState>> {
    let Some(commitment) = store::commitment(conn, round_id)? else {
        return Ok(None);
    };
    let drawn = store::drawn_counts(conn, round_id)?;
    let mut strata = Vec::new();
    for s in store::strata(conn, round_id)? {
        let counts = drawn.get(&s.id).copied().unwrap_or_default();
        strata.push(SampleStratum {
            id: s.id,
            sampled: counts.sampled,
            replaced: counts.replaced,
            reserve: counts.reserve,
            unit: s.unit_code,
            group: s.group_code,
            frame_size: s.frame_size,
            sample_size: s.sample_size,
            frame_hash: s.frame_hash,
        });
    }
    Ok(Some(SampleState { commitment, strata }))
}

/// Whom code issuing may give codes to: `None` for a round without a committed sample
/// (everyone listed, as before samples existed), else the respondents in the sample now.
/// A committed sample not yet drawn is refused: nobody may get a code before the draw.
pub fn sampled_only(conn: &mut AnyConnection, round_id: i64) -> Result<Option<HashSet<i64>>> {
    match store::commitment(conn, round_id)? {
        None => Ok(None),
        Some(c) if c.seed.is_none() => Err(invalid("round.invalid.sample_codes_before_draw", &[])),
        Some(_) => Ok(Some(
            store::sampled_respondents(conn, round_id)?
                .into_iter()
                .map(|(id, _, _)| id)
                .collect(),
        )),
    }
}

/// Verifies a round's draw against a frame file (a respondent list as imported, CSV or XLSX)
/// and a seed, recomputing everything from the file alone: per unit × group, whether the
/// file's hash is the committed one and whether its draw is the draw made.
pub fn verify_sample(
    conn: &mut AnyConnection,
    round_id: i64,
    file_name: &str,
    bytes: &[u8],
    seed: &str,
) -> Result<Verification> {
    use crate::domain::respondent_list::{parse_respondent_csv, parse_respondent_xlsx};
    round_or_404(conn, round_id)?;
    let commitment = store::commitment(conn, round_id)?
        .ok_or_else(|| invalid("round.invalid.sample_not_committed", &[]))?;
    let Some(used_seed) = commitment.seed else {
        return Err(invalid("round.invalid.sample_not_drawn", &[]));
    };
    let seed = Seed::parse(seed).map_err(seed_refusal)?;
    let lookups = round_lookups(conn, round_id)?;
    let xlsx =
        file_name.to_ascii_lowercase().ends_with(".xlsx") || bytes.starts_with(b"PK\x03\x04");
    let rows = if xlsx {
        parse_respondent_xlsx(bytes, file_name, &lookups.units, &lookups.groups)
    } else {
        parse_respondent_csv(bytes, file_name, &lookups.units, &lookups.groups)
    }
    .map_err(RoundError::Rows)?;
    let frame = Frame::build(rows.iter().map(|r| {
        (
            Listed {
                unit: &r.unit,
                group: &r.group,
                name: &r.name,
                email: r.email.as_deref(),
                phone: r.phone.as_deref(),
            },
            (),
        )
    }));
    let file_hashes = frame.stratum_hashes();
    let mut committed: BTreeMap<Stratum, store::StratumRow> = store::strata(conn, round_id)?
        .into_iter()
        .map(|s| ((s.unit_code.clone(), s.group_code.clone()), s))
        .collect();
    let mut strata = Vec::new();
    let keys: BTreeSet<Stratum> = committed
        .keys()
        .chain(frame.strata.keys())
        .cloned()
        .collect();
    for stratum in keys {
        let members = frame.strata.get(&stratum).cloned().unwrap_or_default();
        let in_file = members.len();
        let Some(row) = committed.remove(&stratum) else {
            strata.push(StratumCheck {
                unit: stratum.0,
                group: stratum.1,
                in_file,
                committed: 0,
                frame_matches: false,
                draw_matches: false,
            });
            continue;
        };
        let frame_matches = file_hashes.get(&stratum) == Some(&row.frame_hash);
        let made: Vec<String> = store::members(conn, row.id)?
            .into_iter()
            .map(|m| m.respondent_key)
            .collect();
        let size = usize::try_from(row.sample_size).unwrap_or(0);
        let recomputed: Vec<String> = sampling::draw(members, &seed, size)
            .order
            .into_iter()
            .map(|m| m.key)
            .collect();
        strata.push(StratumCheck {
            unit: stratum.0,
            group: stratum.1,
            in_file,
            committed: row.frame_size,
            frame_matches,
            draw_matches: recomputed == made,
        });
    }
    Ok(Verification {
        seed_matches: used_seed == seed.as_str(),
        strata,
    })
}

/// A unit × group's sample in the coverage table: its frame, how the sample went, and the
/// AAPOR rates (mapping in docs/sampling.md, section 6).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct SampleCoverage {
    /// Respondents in the committed frame.
    pub frame: i64,
    /// In the sample now (drawn or called up from the reserve).
    pub sampled: i64,
    /// Replaced so far, for any reason.
    pub replaced: i64,
    /// Replaced as refused.
    pub refused: i64,
    /// Replaced as ineligible.
    pub ineligible: i64,
    /// The AAPOR final dispositions.
    pub dispositions: Dispositions,
    /// RR1, from 0 to 1.
    pub rr1: Option<f64>,
    /// COOP1, from 0 to 1.
    pub coop1: Option<f64>,
}

/// The sample per `(unit id, group id)` of a round, or nothing without a drawn sample.
pub fn sample_coverage(
    conn: &mut AnyConnection,
    round_id: i64,
) -> Result<BTreeMap<(i64, i64), SampleCoverage>> {
    let drawn = store::commitment(conn, round_id)?.is_some_and(|c| c.seed.is_some());
    if !drawn {
        return Ok(BTreeMap::new());
    }
    let mut out: BTreeMap<(i64, i64), SampleCoverage> = BTreeMap::new();
    for s in store::strata(conn, round_id)? {
        out.entry((s.unit_id, s.group_id)).or_default().frame = s.frame_size;
    }
    for (unit, group, status, code) in store::outcomes(conn, round_id)? {
        let row = out.entry((unit, group)).or_default();
        let outcome = match status {
            SlotStatus::Replaced(reason) => {
                row.replaced += 1;
                match reason {
                    ReplacementReason::Refused => {
                        row.refused += 1;
                        Outcome::Refused
                    }
                    ReplacementReason::Ineligible => {
                        row.ineligible += 1;
                        Outcome::Ineligible
                    }
                    ReplacementReason::Unreachable => Outcome::Unreachable,
                }
            }
            SlotStatus::Sampled => {
                row.sampled += 1;
                match code {
                    Some(CodeState::Used) => Outcome::Completed,
                    Some(CodeState::Started) => Outcome::Started,
                    _ => Outcome::NeverStarted,
                }
            }
            SlotStatus::Reserve => return Err(corrupt("sample member status")),
        };
        row.dispositions.add(outcome);
    }
    for row in out.values_mut() {
        row.rr1 = row.dispositions.rr1();
        row.coop1 = row.dispositions.coop1();
    }
    Ok(out)
}

/// A member of a drawn unit × group, as the sample page lists them.
#[derive(Debug, Clone)]
pub struct MemberLine {
    /// The respondent (none when deleted from the list since the commitment).
    pub respondent_id: Option<i64>,
    /// Their name as listed now.
    pub name: Option<String>,
    /// Place in drawn order, from 0.
    pub position: i64,
    /// Where they stand.
    pub status: SlotStatus,
}

/// What the sample page shows: the round, its sample if committed, and when `stratum` names
/// one of its drawn units × groups (by row id), its members in drawn order.
pub fn sample_page(
    conn: &mut AnyConnection,
    round_id: i64,
    stratum: Option<i64>,
) -> Result<(RoundRow, Option<SampleState>, Vec<MemberLine>)> {
    let round = round_or_404(conn, round_id)?;
    let sample = sample_state(conn, round_id)?;
    let mut members = Vec::new();
    if let Some(stratum) = stratum {
        for (m, name) in store::members_with_names(conn, round_id, stratum)? {
            let Some(position) = m.position else {
                continue;
            };
            members.push(MemberLine {
                respondent_id: m.respondent_id,
                name,
                position,
                status: m.slot_status()?,
            });
        }
    }
    Ok((round, sample, members))
}

/// What the published results show of a round's sample: the commitment (with the seed) and
/// each unit's RR1 over all its groups.
#[derive(Debug, Clone)]
pub struct PublicSample {
    /// The commitment and the draw.
    pub commitment: CommitmentRow,
    /// Unit code → RR1 of the unit's sample, all groups together.
    pub unit_rr1: BTreeMap<String, Option<f64>>,
}

/// The sample the results page shows, once drawn; `None` for a round without one.
pub fn public_sample(conn: &mut AnyConnection, round_id: i64) -> Result<Option<PublicSample>> {
    let Some(commitment) = store::commitment(conn, round_id)?.filter(|c| c.seed.is_some()) else {
        return Ok(None);
    };
    let codes: HashMap<i64, String> = db::rounds::units(conn, round_id)?
        .into_iter()
        .map(|u| (u.id, u.code))
        .collect();
    let mut per_unit: BTreeMap<String, Dispositions> = BTreeMap::new();
    for ((unit, _), row) in sample_coverage(conn, round_id)? {
        let Some(code) = codes.get(&unit) else {
            continue;
        };
        let d = per_unit.entry(code.clone()).or_default();
        let r = row.dispositions;
        d.complete += r.complete;
        d.partial += r.partial;
        d.refusal += r.refusal;
        d.non_contact += r.non_contact;
        d.other += r.other;
        d.unknown_household += r.unknown_household;
        d.unknown_other += r.unknown_other;
        d.not_eligible += r.not_eligible;
    }
    Ok(Some(PublicSample {
        commitment,
        unit_rr1: per_unit.into_iter().map(|(u, d)| (u, d.rr1())).collect(),
    }))
}
