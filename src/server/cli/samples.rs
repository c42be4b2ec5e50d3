//! `khaosat round commit-sample`, `draw-sample` and `verify-sample`: the verifiable sample of
//! respondents (docs/sampling.md) from the command line, through the same use cases as pages.

use std::io::Write;

use super::files::read_limited_file;
use super::open_pool;
use super::round_error;
use crate::app::config::Settings;
use crate::app::rounds::{self, Actor, SampleSizes, SampleState};
use crate::domain::respondent_list::{MAX_CSV_BYTES, XLSX_LIMITS};
use crate::domain::sampling::{MAX_SIZES_BYTES, Rate};
use crate::i18n::{Lang, tf};

/// `khaosat round commit-sample ROUND (--sizes FILE | --rate R) --seed-source TEXT`.
pub(super) fn commit(
    settings: &Settings,
    lang: Lang,
    round: i64,
    sizes: Option<&std::path::Path>,
    rate: Option<&str>,
    seed_source: &str,
) -> anyhow::Result<()> {
    let file = sizes
        .map(|path| read_limited_file(lang, path, MAX_SIZES_BYTES))
        .transpose()?;
    let sizes = match (&file, rate) {
        (Some((name, bytes)), _) => SampleSizes::File { name, bytes },
        (None, Some(rate)) => SampleSizes::Rate(Rate::parse(rate).map_err(|_| {
            anyhow::anyhow!(tf(lang, "cli.sample.rate_invalid", &[("value", rate)]))
        })?),
        (None, None) => unreachable!("clap requires --sizes or --rate"),
    };
    let pool = open_pool(settings)?;
    let mut conn = pool.get()?;
    let state = rounds::commit_sample(&mut conn, round, sizes, seed_source, Actor::service("cli"))
        .map_err(|e| round_error(lang, round, e))?;
    print_commitment(lang, round, &state)
}

fn print_commitment(lang: Lang, round: i64, state: &SampleState) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let size: i64 = state.strata.iter().map(|s| s.sample_size).sum();
    let frame: i64 = state.strata.iter().map(|s| s.frame_size).sum();
    writeln!(
        out,
        "{}",
        tf(
            lang,
            "cli.sample.committed",
            &[
                ("round", &round.to_string()),
                ("hash", &state.commitment.frame_hash),
                ("strata", &state.strata.len().to_string()),
                ("size", &size.to_string()),
                ("frame", &frame.to_string()),
                ("source", &state.commitment.seed_source),
            ],
        )
    )?;
    for s in &state.strata {
        writeln!(
            out,
            "{}",
            tf(
                lang,
                "cli.sample.stratum",
                &[
                    ("unit", &s.unit),
                    ("group", &s.group),
                    ("size", &s.sample_size.to_string()),
                    ("frame", &s.frame_size.to_string()),
                    ("hash", &s.frame_hash),
                ],
            )
        )?;
    }
    Ok(())
}

/// `khaosat round draw-sample ROUND --seed SEED`.
pub(super) fn draw(settings: &Settings, lang: Lang, round: i64, seed: &str) -> anyhow::Result<()> {
    let pool = open_pool(settings)?;
    let mut conn = pool.get()?;
    let state = rounds::draw_sample(&mut conn, round, seed, Actor::service("cli"))
        .map_err(|e| round_error(lang, round, e))?;
    let sampled: usize = state.strata.iter().map(|s| s.sampled).sum();
    let reserve: usize = state.strata.iter().map(|s| s.reserve).sum();
    writeln!(
        std::io::stdout(),
        "{}",
        tf(
            lang,
            "cli.sample.drawn",
            &[
                ("round", &round.to_string()),
                ("seed", state.commitment.seed.as_deref().unwrap_or_default()),
                ("sampled", &sampled.to_string()),
                ("reserve", &reserve.to_string()),
            ],
        )
    )?;
    Ok(())
}

/// `khaosat round verify-sample ROUND --frame FILE --seed SEED`: one line per unit × group,
/// and a non-zero exit when anything differs.
pub(super) fn verify(
    settings: &Settings,
    lang: Lang,
    round: i64,
    frame: &std::path::Path,
    seed: &str,
) -> anyhow::Result<()> {
    let limit = MAX_CSV_BYTES.max(XLSX_LIMITS.max_file_bytes);
    let (name, bytes) = read_limited_file(lang, frame, limit)?;
    let pool = open_pool(settings)?;
    let mut conn = pool.get()?;
    let outcome = rounds::verify_sample(&mut conn, round, &name, &bytes, seed)
        .map_err(|e| round_error(lang, round, e))?;
    let mut out = std::io::stdout().lock();
    for s in &outcome.strata {
        let (key, extra): (&str, Vec<(&str, String)>) = if !s.frame_matches {
            (
                "cli.sample.frame_differs",
                vec![
                    ("file", s.in_file.to_string()),
                    ("committed", s.committed.to_string()),
                ],
            )
        } else if !s.draw_matches {
            ("cli.sample.draw_differs", Vec::new())
        } else {
            ("cli.sample.match", Vec::new())
        };
        let mut args: Vec<(&str, &str)> = vec![("unit", &s.unit), ("group", &s.group)];
        args.extend(extra.iter().map(|(k, v)| (*k, v.as_str())));
        writeln!(out, "{}", tf(lang, key, &args))?;
    }
    if !outcome.seed_matches {
        writeln!(out, "{}", tf(lang, "cli.sample.seed_differs", &[]))?;
    }
    let round_text = round.to_string();
    if outcome.matches() {
        writeln!(
            out,
            "{}",
            tf(
                lang,
                "cli.sample.verified",
                &[
                    ("round", &round_text),
                    ("count", &outcome.strata.len().to_string())
                ],
            )
        )?;
        Ok(())
    } else {
        let differing = outcome.strata.iter().filter(|s| !s.matches()).count();
        anyhow::bail!(tf(
            lang,
            "cli.sample.mismatches",
            &[("round", &round_text), ("count", &differing.to_string())],
        ))
    }
}
