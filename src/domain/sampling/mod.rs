//! Verifiable random samples of respondents: the sampling frame and its hash, the seeded draw
//! with its reserve list, replacements from the reserve, and the AAPOR response rates.
//!
//! Everything here is specified byte by byte in `docs/sampling.md`, so that anyone holding the
//! respondent list and the seed can redo the draw with other tools; `tests/sampling_reference.py`
//! does exactly that. The order of work is: build the [`Frame`] from the list, commit its
//! [`Frame::hash`] and the sizes, learn the [`Seed`], then [`draw`] each unit × group.

mod draw;
mod frame;
mod rates;
mod sizes;

pub use draw::{
    MAX_SEED_CHARS, ReplaceError, ReplacementReason, Seed, SeedError, SlotStatus, StratumDraw,
    draw, rank, replace,
};
pub use frame::{
    FRAME_VERSION, Frame, FrameMember, Listed, Stratum, frame_hash, respondent_key, stratum_hash,
};
pub use rates::{Dispositions, Outcome, Rate, RateError, sample_size};
pub use sizes::{MAX_SIZES_BYTES, SizeRow, parse_sizes_csv};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::respondent_list::{StandardGroups, parse_respondent_csv};

    const DOC: &str = include_str!("../../../docs/sampling.md");
    const EXAMPLE: &[u8] = include_bytes!("../../../tests/fixtures/sampling/example.csv");

    #[test]
    fn the_worked_example_of_docs_sampling_md_is_what_the_draw_gives() {
        let unit = |code: &str| (code == "01").then(|| code.to_owned());
        let rows = parse_respondent_csv(EXAMPLE, "example.csv", &unit, &StandardGroups).unwrap();
        let frame = Frame::build(rows.iter().map(|r| {
            let listed = Listed {
                unit: &r.unit,
                group: &r.group,
                name: &r.name,
                email: r.email.as_deref(),
                phone: r.phone.as_deref(),
            };
            (listed, r.row)
        }));
        let stratum = ("01".to_owned(), "civil_servant".to_owned());
        assert!(DOC.contains(&format!("Frame hash: `{}`", frame.hash())));
        assert!(DOC.contains(&format!(
            "Stratum hash: `{}`",
            frame.stratum_hashes()[&stratum]
        )));
        let seed = Seed::parse("XSMB 20/12/2026: 12345").unwrap();
        let members = frame.strata[&stratum].clone();
        let drawn = draw(members, &seed, 2);
        // Each line of the table: position, rank in hex, the key with ␟ shown, sample or reserve.
        for (i, member) in drawn.order.iter().enumerate() {
            let role = if i < drawn.size { "sample" } else { "reserve" };
            let line = format!(
                "| {} | `{}` | `{}`",
                i + 1,
                hex::encode(rank(&seed, &member.key)),
                member.key.replace('\u{1f}', "␟")
            );
            let found = DOC
                .lines()
                .find(|l| l.starts_with(&line))
                .unwrap_or_else(|| panic!("docs/sampling.md lacks the line {line}"));
            assert!(
                found.trim_end().ends_with(&format!("| {role:<7} |")),
                "{found}"
            );
        }
        // The replacements the example describes: first and second of the reserve, in order.
        let mut slots: Vec<SlotStatus> = (0..drawn.order.len())
            .map(|i| {
                if i < 2 {
                    SlotStatus::Sampled
                } else {
                    SlotStatus::Reserve
                }
            })
            .collect();
        assert_eq!(replace(&mut slots, 0, ReplacementReason::Refused), Ok(2));
        assert_eq!(replace(&mut slots, 1, ReplacementReason::Ineligible), Ok(3));
        assert!(drawn.order[2].key.starts_with("Đỗ Quang Huy"));
        assert!(drawn.order[3].key.starts_with("Nguyễn Văn An"));
    }
}
