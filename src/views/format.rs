//! Small text formatters shared by the admin and results pages: names by language, points,
//! ranks and changes. They live here so that no view module needs another one for them.

use crate::domain::number::{DecimalSeparator, NumberFormat};
use crate::domain::scoring::Position;
use crate::i18n::Lang;

/// The Vietnamese or English form of a name, by page language.
pub fn name<'a>(lang: Lang, vi: &'a str, en: &'a str) -> &'a str {
    if lang == Lang::Vi { vi } else { en }
}

/// A round's name in `lang`, followed by its year in brackets unless the name already says
/// it ("Khảo sát năm 2024", never "Khảo sát năm 2024 (2024)").
pub(crate) fn round_title(lang: Lang, name_vi: &str, name_en: &str, year: i32) -> String {
    let shown = name(lang, name_vi, name_en);
    if shown.contains(&year.to_string()) {
        shown.to_owned()
    } else {
        format!("{shown} ({year})")
    }
}

/// How pages in `lang` write a number with `decimals` decimals: a decimal comma in
/// Vietnamese ("0,95"), a point in English. Downloads and the API keep the point.
pub(crate) fn number_format(lang: Lang, decimals: u32) -> NumberFormat {
    NumberFormat {
        decimals,
        separator: match lang {
            Lang::Vi => DecimalSeparator::Comma,
            Lang::En => DecimalSeparator::Dot,
        },
    }
}

/// Points with two decimals in the page's language: "20,23" / "20.23".
pub(crate) fn points(lang: Lang, x: f64) -> String {
    number_format(lang, 2).format(x)
}

/// [`points`] for Vietnamese pages, as a function a chart can be given.
fn points_vi(x: f64) -> String {
    points(Lang::Vi, x)
}

/// [`points`] for English pages, as a function a chart can be given.
fn points_en(x: f64) -> String {
    points(Lang::En, x)
}

/// The points formatter of `lang`, for charts that take their number format as a function.
pub(crate) fn points_fn(lang: Lang) -> &'static dyn Fn(f64) -> String {
    match lang {
        Lang::Vi => &points_vi,
        Lang::En => &points_en,
    }
}

/// A percentage with one decimal and its sign, in the page's language: "4,0 %" / "4.0 %".
pub(crate) fn percent(lang: Lang, x: f64) -> String {
    format!("{} %", number_format(lang, 1).format(x))
}

/// "—" for a missing number, else [`points`].
pub(crate) fn num(lang: Lang, x: Option<f64>) -> String {
    x.filter(|v| v.is_finite())
        .map_or_else(|| "—".to_owned(), |v| points(lang, v))
}

/// "3/63", or "—".
pub(crate) fn position(p: Option<Position>) -> String {
    p.map_or_else(|| "—".to_owned(), |p| format!("{}/{}", p.rank, p.of))
}

/// "+1,25" / "−0,50" / "—" (a point in English).
pub(crate) fn signed(lang: Lang, x: Option<f64>) -> String {
    match x.filter(|v| v.is_finite()) {
        Some(d) if d >= 0.0 => format!("+{}", points(lang, d)),
        Some(d) => format!("−{}", points(lang, -d)),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnamese_pages_write_a_decimal_comma_and_english_pages_a_point() {
        assert_eq!(points(Lang::Vi, 0.95), "0,95");
        assert_eq!(points(Lang::En, 0.95), "0.95");
        assert_eq!(percent(Lang::Vi, 4.0), "4,0 %");
        assert_eq!(num(Lang::Vi, Some(20.234)), "20,23");
        assert_eq!(num(Lang::Vi, None), "—");
        assert_eq!(signed(Lang::Vi, Some(-0.5)), "−0,50");
        assert_eq!(points_fn(Lang::Vi)(1.5), "1,50");
    }

    #[test]
    fn a_round_title_names_its_year_once() {
        assert_eq!(
            round_title(Lang::Vi, "Khảo sát năm 2024", "Survey 2024", 2024),
            "Khảo sát năm 2024"
        );
        assert_eq!(
            round_title(Lang::En, "Khảo sát", "Survey", 2024),
            "Survey (2024)"
        );
    }
}
