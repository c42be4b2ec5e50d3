//! The sampling frame: the listed respondents of a round per unit × group, each under a stable
//! respondent key, and the SHA-256 hashes that commit to it.

use std::collections::{BTreeMap, HashMap};

use sha2::{Digest, Sha256};

/// The version tag that opens every hashed serialisation, so that a later change of the format
/// can never produce the hash of an earlier one.
pub const FRAME_VERSION: &str = "khaosat-frame-v1";

/// Separates the fields of a respondent key: U+001F (unit separator), which no cell of a
/// respondent list may contain (control characters are refused on import).
const FIELD_SEPARATOR: char = '\u{1f}';

/// A unit × group of the frame: `(unit code, group code)`.
pub type Stratum = (String, String);

/// A listed respondent as the frame sees them, with every value already normalised as the
/// respondent-list importer stores it (name in NFC, e-mail lower-cased, phone as `+` and
/// digits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listed<'a> {
    /// Unit code.
    pub unit: &'a str,
    /// Group code.
    pub group: &'a str,
    /// Full name.
    pub name: &'a str,
    /// E-mail address, if any.
    pub email: Option<&'a str>,
    /// Phone number, if any.
    pub phone: Option<&'a str>,
}

/// The respondent key: `name ␟ email ␟ phone ␟ occurrence`, where `␟` is U+001F, a missing
/// e-mail or phone is the empty string, and `occurrence` (decimal, from 1) counts the
/// respondents with the same name, e-mail and phone in the same unit × group, in list order.
///
/// A respondent list has no identifier column, so the key is the person's identity as the list
/// states it. Two people written identically are told apart only by their occurrence; since
/// they are indistinguishable in the list, which of them is "1" cannot change what a verifier
/// finds.
pub fn respondent_key(listed: &Listed<'_>, occurrence: u32) -> String {
    let sep = FIELD_SEPARATOR;
    format!(
        "{}{sep}{}{sep}{}{sep}{occurrence}",
        listed.name,
        listed.email.unwrap_or(""),
        listed.phone.unwrap_or(""),
    )
}

/// One member of the frame: their key and what the caller knows them by (a respondent id, a
/// row of a file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameMember<T> {
    /// The respondent key ([`respondent_key`]).
    pub key: String,
    /// The caller's handle on the respondent.
    pub item: T,
}

/// The sampling frame: members per unit × group, in list order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame<T> {
    /// Members per unit × group, strata in byte order of (unit, group).
    pub strata: BTreeMap<Stratum, Vec<FrameMember<T>>>,
}

impl<T> Frame<T> {
    /// The frame of a list given in list order: each respondent keyed by [`respondent_key`],
    /// occurrences counted per unit × group.
    pub fn build<'a>(listed: impl IntoIterator<Item = (Listed<'a>, T)>) -> Self {
        let mut strata: BTreeMap<Stratum, Vec<FrameMember<T>>> = BTreeMap::new();
        let mut seen: HashMap<(Stratum, String), u32> = HashMap::new();
        for (person, item) in listed {
            let stratum = (person.unit.to_owned(), person.group.to_owned());
            let identity = respondent_key(&person, 0);
            let occurrence = seen.entry((stratum.clone(), identity)).or_insert(0);
            *occurrence += 1;
            let key = respondent_key(&person, *occurrence);
            strata
                .entry(stratum)
                .or_default()
                .push(FrameMember { key, item });
        }
        Frame { strata }
    }

    /// How many respondents the frame has in `stratum`.
    pub fn size_of(&self, stratum: &Stratum) -> usize {
        self.strata.get(stratum).map_or(0, Vec::len)
    }

    /// The hash of each unit × group, lower-case hex (see [`stratum_hash`]).
    pub fn stratum_hashes(&self) -> BTreeMap<Stratum, String> {
        self.strata
            .iter()
            .map(|(stratum, members)| {
                let keys = members.iter().map(|m| m.key.as_str());
                (stratum.clone(), stratum_hash(stratum, keys))
            })
            .collect()
    }

    /// The hash of the whole frame, lower-case hex: SHA-256 of `FRAME_VERSION` LF, then for
    /// each unit × group in byte order of (unit, group) the line
    /// `unit ␟ group ␟ stratum hash` LF.
    pub fn hash(&self) -> String {
        frame_hash(&self.stratum_hashes())
    }
}

/// The hash of one unit × group, lower-case hex: SHA-256 of the UTF-8 bytes of
/// `FRAME_VERSION` LF `unit` LF `group` LF, then every respondent key followed by LF, keys
/// sorted by their bytes. Sorted, so that the order of rows in a file does not matter.
pub fn stratum_hash<'a>(stratum: &Stratum, keys: impl IntoIterator<Item = &'a str>) -> String {
    let mut keys: Vec<&str> = keys.into_iter().collect();
    keys.sort_unstable();
    let mut hasher = Sha256::new();
    for part in [FRAME_VERSION, &stratum.0, &stratum.1] {
        hasher.update(part.as_bytes());
        hasher.update(b"\n");
    }
    for key in keys {
        hasher.update(key.as_bytes());
        hasher.update(b"\n");
    }
    hex::encode(hasher.finalize())
}

/// The hash of a frame from its stratum hashes (see [`Frame::hash`]).
pub fn frame_hash(stratum_hashes: &BTreeMap<Stratum, String>) -> String {
    let mut hasher = Sha256::new();
    hasher.update(FRAME_VERSION.as_bytes());
    hasher.update(b"\n");
    for ((unit, group), hash) in stratum_hashes {
        hasher
            .update(format!("{unit}{FIELD_SEPARATOR}{group}{FIELD_SEPARATOR}{hash}\n").as_bytes());
    }
    hex::encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person<'a>(unit: &'a str, name: &'a str, phone: Option<&'a str>) -> Listed<'a> {
        Listed {
            unit,
            group: "citizen",
            name,
            email: None,
            phone,
        }
    }

    #[test]
    fn the_respondent_key_joins_name_email_phone_and_occurrence_with_unit_separators() {
        let listed = Listed {
            unit: "01",
            group: "leader",
            name: "Nguyễn Văn An",
            email: Some("an@hanoi.gov.vn"),
            phone: None,
        };
        assert_eq!(
            respondent_key(&listed, 1),
            "Nguyễn Văn An\u{1f}an@hanoi.gov.vn\u{1f}\u{1f}1"
        );
    }

    #[test]
    fn identical_people_in_one_unit_and_group_are_told_apart_by_their_occurrence() {
        let frame = Frame::build([
            (person("01", "Lê Thị Hoa", None), 1),
            (person("01", "Lê Thị Hoa", None), 2),
            (person("02", "Lê Thị Hoa", None), 3),
        ]);
        let keys = |unit: &str| -> Vec<String> {
            frame.strata[&(unit.to_owned(), "citizen".to_owned())]
                .iter()
                .map(|m| m.key.clone())
                .collect()
        };
        assert_eq!(
            keys("01"),
            [
                "Lê Thị Hoa\u{1f}\u{1f}\u{1f}1",
                "Lê Thị Hoa\u{1f}\u{1f}\u{1f}2"
            ]
        );
        assert_eq!(keys("02"), ["Lê Thị Hoa\u{1f}\u{1f}\u{1f}1"]);
    }

    #[test]
    fn the_frame_hash_ignores_row_order_but_not_a_changed_name() {
        let a = person("01", "Phạm Minh Đức", Some("0912345678"));
        let b = person("01", "Trần Thu Hà", None);
        let one = Frame::build([(a, ()), (b, ())]);
        let reordered = Frame::build([(b, ()), (a, ())]);
        assert_eq!(one.hash(), reordered.hash());
        let changed = Frame::build([(a, ()), (person("01", "Trần Thu Hằng", None), ())]);
        assert_ne!(one.hash(), changed.hash());
        assert_eq!(one.hash().len(), 64);
    }

    #[test]
    fn the_stratum_hash_is_sha256_of_the_documented_bytes() {
        // The serialisation written out by hand: version, unit, group, then the keys in byte
        // order ("A…" before "B…"), each line ending in LF.
        let stratum = ("01".to_owned(), "leader".to_owned());
        let expected = hex::encode(Sha256::digest(
            "khaosat-frame-v1\n01\nleader\nA\u{1f}\u{1f}\u{1f}1\nB\u{1f}\u{1f}\u{1f}1\n".as_bytes(),
        ));
        assert_eq!(
            stratum_hash(&stratum, ["B\u{1f}\u{1f}\u{1f}1", "A\u{1f}\u{1f}\u{1f}1"]),
            expected
        );
    }

    #[test]
    fn the_frame_hash_changes_when_a_person_moves_to_another_unit() {
        let a = person("01", "Phạm Minh Đức", None);
        let b = person("02", "Phạm Minh Đức", None);
        let c = person("01", "Vũ Thị Lan", None);
        let before = Frame::build([(a, ()), (c, ())]);
        let after = Frame::build([(b, ()), (c, ())]);
        assert_ne!(before.hash(), after.hash());
        assert_eq!(before.size_of(&("01".into(), "citizen".into())), 2);
        assert_eq!(after.size_of(&("01".into(), "citizen".into())), 1);
    }
}
