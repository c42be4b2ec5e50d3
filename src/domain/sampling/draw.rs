//! The seeded draw: within a unit × group, order the frame by HMAC-SHA256 of each respondent
//! key under the seed, take the first n as the sample and keep the rest, in order, as the
//! reserve; replacements are called up from the reserve in that order.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use unicode_normalization::UnicodeNormalization;

use super::frame::FrameMember;

/// Longest seed accepted, in characters.
pub const MAX_SEED_CHARS: usize = 1_000;

/// The seed of a draw: the text as published or typed, with ASCII whitespace (space, tab,
/// LF, CR) trimmed from both ends and put in Unicode NFC, so that the same words typed on
/// another keyboard give the same draw. Its UTF-8 bytes are the HMAC key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seed(String);

/// Why a seed was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SeedError {
    /// Nothing but whitespace.
    #[error("the seed is empty")]
    Empty,
    /// Longer than [`MAX_SEED_CHARS`].
    #[error("the seed is longer than {MAX_SEED_CHARS} characters")]
    TooLong,
}

impl Seed {
    /// The seed written `text`, normalised as [`Seed`] says.
    pub fn parse(text: &str) -> Result<Self, SeedError> {
        let trimmed = text.trim_matches([' ', '\t', '\n', '\r']);
        if trimmed.is_empty() {
            return Err(SeedError::Empty);
        }
        let seed: String = trimmed.nfc().collect();
        if seed.chars().count() > MAX_SEED_CHARS {
            return Err(SeedError::TooLong);
        }
        Ok(Seed(seed))
    }

    /// The normalised seed.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A respondent's place in the draw: HMAC-SHA256 with the seed's UTF-8 bytes as key and the
/// respondent key's UTF-8 bytes as message.
pub fn rank(seed: &Seed, key: &str) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(seed.0.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(key.as_bytes());
    mac.finalize().into_bytes().into()
}

/// The draw of one unit × group: the whole frame in drawn order; the first `size` are the
/// sample, the rest the reserve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StratumDraw<T> {
    /// Every member, in drawn order.
    pub order: Vec<FrameMember<T>>,
    /// How many of them are the sample (at most the frame size).
    pub size: usize,
}

impl<T> StratumDraw<T> {
    /// The sample: the first `size` members.
    pub fn sample(&self) -> &[FrameMember<T>] {
        &self.order[..self.size]
    }

    /// The reserve: the others, in the order replacements are called up.
    pub fn reserve(&self) -> &[FrameMember<T>] {
        &self.order[self.size..]
    }
}

/// Draws `size` of `members` (one unit × group) with `seed`: ordered by [`rank`] as bytes,
/// ties (only possible between equal keys, which [`super::Frame`] never makes) broken by the
/// key's bytes. A size beyond the frame takes everyone.
pub fn draw<T>(members: Vec<FrameMember<T>>, seed: &Seed, size: usize) -> StratumDraw<T> {
    let mut ranked: Vec<([u8; 32], FrameMember<T>)> = members
        .into_iter()
        .map(|m| (rank(seed, &m.key), m))
        .collect();
    ranked.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.key.cmp(&b.1.key)));
    let size = size.min(ranked.len());
    StratumDraw {
        order: ranked.into_iter().map(|(_, m)| m).collect(),
        size,
    }
}

/// Why a sampled respondent was replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReplacementReason {
    /// Not part of the population surveyed (left the post, not of this unit).
    Ineligible,
    /// Could not be reached during fieldwork.
    Unreachable,
    /// Declined to take part.
    Refused,
}

impl ReplacementReason {
    /// Every reason, in the order forms list them.
    pub const ALL: [ReplacementReason; 3] = [
        ReplacementReason::Ineligible,
        ReplacementReason::Unreachable,
        ReplacementReason::Refused,
    ];

    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            ReplacementReason::Ineligible => "ineligible",
            ReplacementReason::Unreachable => "unreachable",
            ReplacementReason::Refused => "refused",
        }
    }

    /// The reason with this stored code.
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }
}

/// Where a member of a drawn unit × group stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotStatus {
    /// In the sample: drawn into it, or called up from the reserve.
    Sampled,
    /// Waiting in the reserve.
    Reserve,
    /// Was in the sample and was replaced, for this reason.
    Replaced(ReplacementReason),
}

/// Why a replacement was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReplaceError {
    /// The position is not in the sample (a reserve member, or already replaced).
    #[error("the respondent is not in the sample")]
    NotSampled,
    /// Every reserve member has been called up.
    #[error("the reserve is exhausted")]
    ReserveExhausted,
}

/// Replaces the sampled member at `position` (in drawn order) for `reason`: they become
/// [`SlotStatus::Replaced`] and the first member still in the reserve, in drawn order, joins
/// the sample. Returns that member's position. Nothing changes when it is refused.
pub fn replace(
    slots: &mut [SlotStatus],
    position: usize,
    reason: ReplacementReason,
) -> Result<usize, ReplaceError> {
    if slots.get(position) != Some(&SlotStatus::Sampled) {
        return Err(ReplaceError::NotSampled);
    }
    let next = slots
        .iter()
        .position(|s| *s == SlotStatus::Reserve)
        .ok_or(ReplaceError::ReserveExhausted)?;
    slots[position] = SlotStatus::Replaced(reason);
    slots[next] = SlotStatus::Sampled;
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::sampling::{Frame, Listed};

    fn citizens(names: &[&'static str]) -> Vec<FrameMember<usize>> {
        let frame = Frame::build(names.iter().enumerate().map(|(i, name)| {
            (
                Listed {
                    unit: "01",
                    group: "citizen",
                    name,
                    email: None,
                    phone: None,
                },
                i,
            )
        }));
        frame.strata.into_values().next().unwrap()
    }

    const NAMES: [&str; 8] = [
        "Nguyễn Văn An",
        "Trần Thị Bình",
        "Lê Văn Cường",
        "Phạm Thị Dung",
        "Hoàng Văn Em",
        "Vũ Thị Giang",
        "Đặng Văn Hải",
        "Bùi Thị Khánh",
    ];

    fn seed(text: &str) -> Seed {
        Seed::parse(text).unwrap()
    }

    #[test]
    fn the_same_frame_and_seed_give_the_same_draw_whatever_the_list_order() {
        let mut reversed = NAMES;
        reversed.reverse();
        let one = draw(citizens(&NAMES), &seed("XSMB 2026-12-06: 12345"), 3);
        let two = draw(citizens(&reversed), &seed("XSMB 2026-12-06: 12345"), 3);
        let keys =
            |d: &StratumDraw<usize>| d.order.iter().map(|m| m.key.clone()).collect::<Vec<_>>();
        assert_eq!(keys(&one), keys(&two));
        assert_eq!(one.sample().len(), 3);
        assert_eq!(one.reserve().len(), 5);
    }

    #[test]
    fn the_draw_orders_by_the_hmac_of_each_key_under_the_seed() {
        let drawn = draw(citizens(&NAMES), &seed("witnessed 4711"), 8);
        let ranks: Vec<[u8; 32]> = drawn
            .order
            .iter()
            .map(|m| rank(&seed("witnessed 4711"), &m.key))
            .collect();
        assert!(ranks.windows(2).all(|w| w[0] < w[1]), "{ranks:?}");
        // The rank is plain HMAC-SHA256(seed, key), as an independent computation gives it.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(b"witnessed 4711").unwrap();
        mac.update(drawn.order[0].key.as_bytes());
        assert_eq!(ranks[0], <[u8; 32]>::from(mac.finalize().into_bytes()));
    }

    #[test]
    fn another_seed_gives_another_order() {
        let a = draw(citizens(&NAMES), &seed("12345"), 3);
        let b = draw(citizens(&NAMES), &seed("12346"), 3);
        assert_ne!(
            a.order.iter().map(|m| m.item).collect::<Vec<_>>(),
            b.order.iter().map(|m| m.item).collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_changed_frame_changes_the_draw() {
        let a = draw(citizens(&NAMES), &seed("12345"), 8);
        let mut changed = NAMES;
        changed[0] = "Nguyễn Văn Ân";
        let b = draw(citizens(&changed), &seed("12345"), 8);
        let keys =
            |d: &StratumDraw<usize>| d.order.iter().map(|m| m.key.clone()).collect::<Vec<_>>();
        assert_ne!(keys(&a), keys(&b));
    }

    #[test]
    fn a_size_beyond_the_frame_takes_everyone() {
        let drawn = draw(citizens(&NAMES[..2]), &seed("1"), 5);
        assert_eq!(drawn.sample().len(), 2);
        assert!(drawn.reserve().is_empty());
    }

    #[test]
    fn the_seed_is_trimmed_of_ascii_whitespace_and_composed() {
        // "Hà Nội" with the accents as combining marks, as some keyboards type it.
        let decomposed = " Ha\u{300} No\u{302}\u{323}i\n";
        assert_eq!(seed(decomposed).as_str(), "Hà Nội");
        assert_eq!(Seed::parse(" \t\n"), Err(SeedError::Empty));
        assert_eq!(Seed::parse(&"9".repeat(1001)), Err(SeedError::TooLong));
    }

    #[test]
    fn replacements_follow_the_reserve_order() {
        use ReplacementReason::*;
        use SlotStatus::*;
        // A sample of 2 out of 5: positions 0 and 1 sampled, 2, 3, 4 the reserve.
        let mut slots = [Sampled, Sampled, Reserve, Reserve, Reserve];
        assert_eq!(replace(&mut slots, 1, Refused), Ok(2));
        assert_eq!(replace(&mut slots, 0, Ineligible), Ok(3));
        // The first replacement can itself be replaced: the next in order comes.
        assert_eq!(replace(&mut slots, 2, Unreachable), Ok(4));
        assert_eq!(
            slots,
            [
                Replaced(Ineligible),
                Replaced(Refused),
                Replaced(Unreachable),
                Sampled,
                Sampled
            ]
        );
        assert_eq!(
            replace(&mut slots, 3, Refused),
            Err(ReplaceError::ReserveExhausted)
        );
        assert_eq!(
            replace(&mut slots, 0, Refused),
            Err(ReplaceError::NotSampled)
        );
        assert_eq!(slots[3], Sampled, "a refused replacement changes nothing");
    }

    #[test]
    fn a_reserve_member_cannot_be_replaced() {
        let mut slots = [SlotStatus::Sampled, SlotStatus::Reserve];
        assert_eq!(
            replace(&mut slots, 1, ReplacementReason::Refused),
            Err(ReplaceError::NotSampled)
        );
        assert_eq!(
            replace(&mut slots, 7, ReplacementReason::Refused),
            Err(ReplaceError::NotSampled)
        );
    }

    #[test]
    fn reasons_round_trip_through_their_codes() {
        for reason in ReplacementReason::ALL {
            assert_eq!(ReplacementReason::parse(reason.code()), Some(reason));
        }
        assert_eq!(ReplacementReason::parse("moved"), None);
    }
}
