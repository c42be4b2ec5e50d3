//! Small text formatters shared by the admin and results pages: names by language, points,
//! ranks and changes. They live here so that no view module needs another one for them.

use crate::domain::scoring::{Position, fmt_points};
use crate::i18n::Lang;

/// The Vietnamese or English form of a name, by page language.
pub fn name<'a>(lang: Lang, vi: &'a str, en: &'a str) -> &'a str {
    if lang == Lang::Vi { vi } else { en }
}

/// "—" for a missing number, else the methodology's two-decimal display.
pub(crate) fn num(x: Option<f64>) -> String {
    x.filter(|v| v.is_finite())
        .map_or_else(|| "—".to_owned(), fmt_points)
}

/// "3/63", or "—".
pub(crate) fn position(p: Option<Position>) -> String {
    p.map_or_else(|| "—".to_owned(), |p| format!("{}/{}", p.rank, p.of))
}

/// "+1.25" / "−0.50" / "—".
pub(crate) fn signed(x: Option<f64>) -> String {
    match x.filter(|v| v.is_finite()) {
        Some(d) if d >= 0.0 => format!("+{}", fmt_points(d)),
        Some(d) => format!("−{}", fmt_points(-d)),
        None => "—".to_owned(),
    }
}

/// "▲ 3" / "▼ 2" / "=" / "—".
pub(crate) fn rank_move(d: Option<i64>) -> String {
    match d {
        Some(d) if d > 0 => format!("▲ {d}"),
        Some(d) if d < 0 => format!("▼ {}", -d),
        Some(_) => "=".to_owned(),
        None => "—".to_owned(),
    }
}
