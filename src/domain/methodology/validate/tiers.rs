//! Tier bands: sorted, without overlaps or gaps, covering 0 to 100 %.

use super::*;

pub(super) fn default_bands() -> Vec<TierBand> {
    vec![
        TierBand {
            code: "A".into(),
            min: 90.0,
            below: None,
        },
        TierBand {
            code: "B".into(),
            min: 80.0,
            below: Some(90.0),
        },
        TierBand {
            code: "C".into(),
            min: 70.0,
            below: Some(80.0),
        },
        TierBand {
            code: "D".into(),
            min: 0.0,
            below: Some(70.0),
        },
    ]
}

pub(super) fn validate_tiers(ctx: &mut Ctx<'_>, tiers: &Spanned<RawTiers>) -> TierSettings {
    let raw = tiers.get_ref();
    if raw.bands.is_empty() {
        ctx.err(
            Some(tiers.span()),
            "tiers.bands",
            ErrorKind::BadTierBands,
            Localized::new("methodology.tier_band_required", &[]),
        );
    }
    let mut bands = Vec::new();
    let mut codes = BTreeSet::new();
    let mut prev: Option<&RawBand> = None;
    for (i, b) in raw.bands.iter().enumerate() {
        let band = b.get_ref();
        let path = format!("tiers.bands[{i}]");
        ctx.code(&band.code, &format!("{path}.code"));
        if !codes.insert(band.code.get_ref().clone()) {
            ctx.err(
                Some(band.code.span()),
                format!("{path}.code"),
                ErrorKind::DuplicateCode,
                Localized::new(
                    "methodology.tier_code_twice",
                    &[("code", band.code.get_ref())],
                ),
            );
        }
        let min = *band.min.get_ref();
        if !(0.0..=100.0).contains(&min) {
            ctx.err(
                Some(band.min.span()),
                format!("{path}.min"),
                ErrorKind::BadTierBands,
                Localized::new("methodology.tier_min_range", &[("min", &min.to_string())]),
            );
        }
        match (prev, &band.below) {
            (None, Some(below)) => ctx.err(
                Some(below.span()),
                format!("{path}.below"),
                ErrorKind::BadTierBands,
                Localized::new("methodology.tier_first_below", &[]),
            ),
            (None, None) => {}
            (Some(p), None) => ctx.err(
                Some(b.span()),
                format!("{path}.below"),
                ErrorKind::BadTierBands,
                Localized::new(
                    "methodology.tier_below_missing",
                    &[
                        ("band", band.code.get_ref()),
                        ("previous_min", &p.min.get_ref().to_string()),
                        ("previous", p.code.get_ref()),
                    ],
                ),
            ),
            (Some(p), Some(below)) => {
                let pmin = *p.min.get_ref();
                let below_v = *below.get_ref();
                if min >= pmin {
                    ctx.err(
                        Some(band.min.span()),
                        format!("{path}.min"),
                        ErrorKind::BadTierBands,
                        Localized::new(
                            "methodology.tier_order",
                            &[
                                ("min", &min.to_string()),
                                ("previous_min", &pmin.to_string()),
                                ("previous", p.code.get_ref()),
                            ],
                        ),
                    );
                } else if decimal_key(below_v, 9) != decimal_key(pmin, 9) {
                    let key = if below_v > pmin {
                        "methodology.tier_overlap"
                    } else {
                        "methodology.tier_gap"
                    };
                    ctx.err(
                        Some(below.span()),
                        format!("{path}.below"),
                        ErrorKind::BadTierBands,
                        Localized::new(
                            key,
                            &[
                                ("band", band.code.get_ref()),
                                ("below", &below_v.to_string()),
                                ("previous", p.code.get_ref()),
                                ("previous_min", &pmin.to_string()),
                            ],
                        ),
                    );
                }
            }
        }
        bands.push(TierBand {
            code: band.code.get_ref().clone(),
            min,
            below: band.below.as_ref().map(|b| *b.get_ref()),
        });
        prev = Some(band);
    }
    TierSettings {
        compare: raw.compare.unwrap_or(CompareOn::FullPrecision),
        bands,
    }
}
