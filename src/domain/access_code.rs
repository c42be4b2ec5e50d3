//! Respondent access codes: one random, easy-to-type secret per invitation, with a check
//! character so that typing mistakes are refused before any database lookup.
//!
//! # Design
//!
//! * **Alphabet** — the 31 symbols `23456789ABCDEFGHJKMNPQRSTUVWXYZ`: digits and capital
//!   letters without `0 O 1 I L`, the characters people confuse when reading a printed or
//!   e-mailed code aloud or typing it on a phone. 31 is prime, which is what makes the check
//!   character below catch *every* single substitution and *every* transposition; a 32-symbol
//!   alphabet would have forced a weaker scheme (Luhn mod N misses some transpositions).
//! * **Shape** — 9 random symbols and 1 check character, shown as `K7QF-9MXC-2B` (4-4-2).
//!   Entropy: 9 · log2(31) ≈ **44.6 bits** (31⁹ ≈ 2.6 · 10¹³ codes). With 100,000 codes issued
//!   in a round a blind guess hits one with probability ≈ 4 · 10⁻⁹, before the login throttle.
//! * **Check character** — weighted sum modulo 31: with symbol values `v₁..v₁₀` (their index in
//!   the alphabet) and weights `1..10`, a code is valid when `Σ i·vᵢ ≡ 0 (mod 31)`. Changing
//!   one symbol changes the sum by `i·Δ`, and swapping positions `i` and `j` changes it by
//!   `(i − j)·Δ`; both factors lie in `1..30` and 31 is prime, so the product is never `0`
//!   mod 31. A random string passes with probability 1/31, so ≈97% of random guesses are
//!   refused without touching the database.
//! * **Normalisation** — input is case-insensitive; spaces (any Unicode white space), dashes
//!   (ASCII and Unicode hyphens/dashes), underscores, dots and zero-width characters are
//!   ignored, so `k7qf 9mxc 2b`, `K7QF9MXC2B` and a pasted `K7QF‑9MXC‑2B` are the same code.
//! * **Confusables are not mapped.** `0`/`O`/`o` and `1`/`I`/`l`/`L` never appear in a code, and
//!   no symbol of the alphabet is their *unambiguous* look-alike (`O` could be a misread `D`
//!   or `Q`; `1` could be `7` or `J`), so guessing would only turn a clear error into a wrong
//!   code. They are refused with a message saying codes never contain them.
//! * **Secrecy** — `Debug` never prints the code, so a stray `{:?}` in a log line cannot leak
//!   it; the type is not `Serialize` for the same reason. Store [`AccessCode::as_canonical`]
//!   hashed, never in clear.

crate::stored_code! {
    /// How far a code has come: handed out, a response started with it, or submitted.
    pub enum CodeState ("access code state") {
        /// Handed out, not used yet.
        Issued = "issued",
        /// A response was started (a draft exists).
        Started = "started",
        /// The response was submitted; the code opens nothing any more.
        Used = "used",
    }
}

crate::stored_code! {
    /// How a code reached its respondent.
    pub enum CodeKind ("access code kind") {
        /// Sent or printed for a listed respondent.
        Invitation = "invitation",
        /// Drawn by a visitor of a public link.
        OpenLink = "open_link",
        /// Stands for a paper form keyed in by staff.
        Paper = "paper",
    }
}

/// How long a code drawn from a public link keeps working, in days from when it was handed
/// out. A visitor who started answering can finish within this time on any device; after it
/// the code opens nothing, its draft is deleted and it no longer counts as in progress.
pub const OPEN_LINK_CODE_DAYS: i64 = 7;

use std::fmt;
use std::str::FromStr;

use rand::Rng;

/// The symbols a code is made of, in value order (index = value in the check sum).
pub const ALPHABET: &[u8; 31] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// Number of random symbols in a code.
pub const RANDOM_SYMBOLS: usize = 9;

/// Total symbols in a code: the random ones plus the check character.
pub const CODE_LENGTH: usize = RANDOM_SYMBOLS + 1;

/// The modulus of the check sum: the alphabet size, a prime.
const MODULUS: u32 = 31;

/// The inverse of the check character's weight (10) modulo 31: 10 · 28 = 280 = 9 · 31 + 1.
const INVERSE_OF_CHECK_WEIGHT: u32 = 28;

/// Characters that look like symbols of the alphabet but are never part of a code; named in
/// the error so the respondent knows to look again at the paper.
const LOOK_ALIKES: &str = "0Oo1IilL";

/// A well-formed access code (alphabet, length and check character verified).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct AccessCode {
    /// The ten symbols, upper case, without separators.
    canonical: String,
}

/// Why typed text is not an access code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    /// After removing spaces and dashes the input does not have 10 symbols.
    #[error("an access code has {CODE_LENGTH} characters; this one has {found}")]
    WrongLength {
        /// How many symbols were typed (separators not counted).
        found: usize,
    },
    /// A character that never occurs in a code.
    #[error("{}", invalid_character_message(*.character, *.position))]
    InvalidCharacter {
        /// The offending character as typed.
        character: char,
        /// Its 1-based position among the typed symbols (separators not counted).
        position: usize,
    },
    /// All symbols are valid but the check character does not match: a typing mistake.
    #[error("this access code contains a typing mistake; please check it against your invitation")]
    CheckMismatch,
}

fn invalid_character_message(character: char, position: usize) -> String {
    let shown: String = character.escape_default().collect();
    if LOOK_ALIKES.contains(character) {
        format!(
            "character {position} ('{shown}') cannot be part of an access code: codes never \
             contain 0, O, 1, I or L"
        )
    } else {
        format!("character {position} ('{shown}') cannot be part of an access code")
    }
}

/// The value of an alphabet symbol (already upper case), if it is one.
fn value_of(symbol: u8) -> Option<u32> {
    ALPHABET
        .iter()
        .position(|&s| s == symbol)
        .and_then(|i| u32::try_from(i).ok())
}

/// The alphabet symbol for a value reduced modulo 31.
fn symbol_of(value: u32) -> u8 {
    // `value % MODULUS` is below 31, so the index is always in range; the fallback only
    // satisfies the no-panic rule.
    usize::try_from(value % MODULUS)
        .ok()
        .and_then(|i| ALPHABET.get(i).copied())
        .unwrap_or(b'2')
}

/// `Σ weight · value` modulo 31 over the given symbols, weights starting at 1.
fn weighted_sum(symbols: &[u8]) -> Option<u32> {
    symbols
        .iter()
        .zip(1u32..)
        .try_fold(0u32, |acc, (&s, weight)| {
            Some((acc + weight * value_of(s)?) % MODULUS)
        })
}

/// The check character that makes `payload` (the random symbols) a valid code.
fn check_symbol(payload: &[u8]) -> Option<u8> {
    let sum = weighted_sum(payload)?;
    // Solve sum + 10 · c ≡ 0, i.e. c ≡ −sum · 10⁻¹ (mod 31).
    Some(symbol_of(
        (MODULUS - sum) % MODULUS * INVERSE_OF_CHECK_WEIGHT,
    ))
}

/// True for characters people put between groups, or that copy-paste drags along.
fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '-' | '_'
                | '.'
                | '\u{2010}'..='\u{2015}'
                | '\u{2212}'
                | '\u{200B}'..='\u{200D}'
                | '\u{2060}'
                | '\u{FEFF}'
        )
}

impl AccessCode {
    /// A new random code from the thread-local CSPRNG (ChaCha seeded and periodically
    /// reseeded from the operating system). `random_range` is unbiased, so every symbol is
    /// equally likely.
    pub fn generate() -> AccessCode {
        let mut rng = rand::rng();
        let mut symbols = Vec::with_capacity(CODE_LENGTH);
        for _ in 0..RANDOM_SYMBOLS {
            symbols.push(symbol_of(rng.random_range(0..MODULUS)));
        }
        // Every symbol came from the alphabet, so the check symbol always exists.
        symbols.push(check_symbol(&symbols).unwrap_or(b'2'));
        AccessCode {
            canonical: symbols.into_iter().map(char::from).collect(),
        }
    }

    /// Parses a code as a person typed it: case-insensitive, separators optional (see the
    /// module notes). Errors are checked in the order: foreign character, length, check
    /// character.
    pub fn parse(input: &str) -> Result<AccessCode, CodeError> {
        let mut symbols = Vec::with_capacity(CODE_LENGTH);
        let mut found = 0usize;
        for c in input.chars().filter(|&c| !is_separator(c)) {
            found += 1;
            let upper = c.to_ascii_uppercase();
            let valid = upper.is_ascii() && u8::try_from(upper).ok().and_then(value_of).is_some();
            if !valid {
                return Err(CodeError::InvalidCharacter {
                    character: c,
                    position: found,
                });
            }
            // Only keep what could be a code; a pasted novel is counted, not stored.
            if symbols.len() < CODE_LENGTH {
                symbols.extend(u8::try_from(upper).ok());
            }
        }
        if found != CODE_LENGTH {
            return Err(CodeError::WrongLength { found });
        }
        if weighted_sum(&symbols) != Some(0) {
            return Err(CodeError::CheckMismatch);
        }
        Ok(AccessCode {
            canonical: symbols.into_iter().map(char::from).collect(),
        })
    }

    /// The ten symbols without separators, e.g. `K7QF9MXC2B`: the form to hash and store.
    pub fn as_canonical(&self) -> &str {
        &self.canonical
    }
}

impl fmt::Display for AccessCode {
    /// The grouped form printed on invitations, e.g. `K7QF-9MXC-2B`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.canonical;
        match (c.get(0..4), c.get(4..8), c.get(8..)) {
            (Some(a), Some(b), Some(rest)) => write!(f, "{a}-{b}-{rest}"),
            // Unreachable for a parsed or generated code (always ten ASCII symbols).
            _ => f.write_str(c),
        }
    }
}

impl fmt::Debug for AccessCode {
    /// Never shows the code: codes are secrets and debug output ends up in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessCode(<redacted>)")
    }
}

impl FromStr for AccessCode {
    type Err = CodeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AccessCode::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(n: usize) -> Vec<AccessCode> {
        (0..n).map(|_| AccessCode::generate()).collect()
    }

    fn with_symbol(code: &str, at: usize, symbol: u8) -> String {
        let mut bytes = code.as_bytes().to_vec();
        bytes[at] = symbol;
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn generated_codes_parse_back_to_themselves() {
        for code in sample(500) {
            assert_eq!(AccessCode::parse(code.as_canonical()).unwrap(), code);
            assert_eq!(AccessCode::parse(&code.to_string()).unwrap(), code);
        }
    }

    #[test]
    fn a_code_is_displayed_in_groups_of_four_four_and_two() {
        let code = AccessCode::generate();
        let shown = code.to_string();
        let groups: Vec<&str> = shown.split('-').collect();
        assert_eq!(
            groups.iter().map(|g| g.len()).collect::<Vec<_>>(),
            [4, 4, 2]
        );
        assert_eq!(groups.concat(), code.as_canonical());
    }

    #[test]
    fn the_check_character_of_a_known_payload_is_computed_by_hand() {
        // Payload K7QF9MXC2: values 17,5,21,13,7,18,28,10,0 weighted 1..9 sum to 561 ≡ 3;
        // c ≡ −3 · 28 ≡ 28 · 28 = 784 ≡ 9 (mod 31), the symbol 'B'; 561 + 10 · 9 = 21 · 31.
        assert_eq!(check_symbol(b"K7QF9MXC2"), Some(b'B'));
        let code = AccessCode::parse("k7qf 9mxc 2b").unwrap();
        assert_eq!(code.to_string(), "K7QF-9MXC-2B");
        assert_eq!(code.as_canonical(), "K7QF9MXC2B");
        assert_eq!(
            AccessCode::parse("K7QF-9MXC-2T"),
            Err(CodeError::CheckMismatch)
        );
    }

    #[test]
    fn a_typo_in_one_character_is_caught_by_the_check_character() {
        for code in sample(200) {
            let canonical = code.as_canonical();
            for at in 0..CODE_LENGTH {
                for &symbol in ALPHABET.iter() {
                    if symbol == canonical.as_bytes()[at] {
                        continue;
                    }
                    let typo = with_symbol(canonical, at, symbol);
                    assert_eq!(
                        AccessCode::parse(&typo),
                        Err(CodeError::CheckMismatch),
                        "substitution at {at} not detected"
                    );
                }
            }
        }
    }

    #[test]
    fn swapping_two_adjacent_characters_is_caught_by_the_check_character() {
        for code in sample(500) {
            let canonical = code.as_canonical().as_bytes();
            for at in 0..CODE_LENGTH - 1 {
                if canonical[at] == canonical[at + 1] {
                    continue;
                }
                let mut swapped = canonical.to_vec();
                swapped.swap(at, at + 1);
                let swapped = String::from_utf8(swapped).unwrap();
                assert_eq!(
                    AccessCode::parse(&swapped),
                    Err(CodeError::CheckMismatch),
                    "transposition at {at} not detected"
                );
            }
        }
    }

    #[test]
    fn swapping_any_two_different_characters_is_caught_too() {
        // Distinct weights 1..10 modulo a prime catch every transposition, not just adjacent.
        for code in sample(200) {
            let canonical = code.as_canonical().as_bytes();
            for i in 0..CODE_LENGTH {
                for j in i + 1..CODE_LENGTH {
                    if canonical[i] == canonical[j] {
                        continue;
                    }
                    let mut swapped = canonical.to_vec();
                    swapped.swap(i, j);
                    let swapped = String::from_utf8(swapped).unwrap();
                    assert_eq!(AccessCode::parse(&swapped), Err(CodeError::CheckMismatch));
                }
            }
        }
    }

    #[test]
    fn the_detection_argument_holds_for_every_possible_code() {
        // Any substitution changes the sum by w·Δ, any transposition by (wᵢ − wⱼ)·Δ, with
        // weights 1..=10 and Δ in 1..=30; none of these products is a multiple of 31.
        for delta in 1..MODULUS {
            for w in 1..=10u32 {
                assert_ne!(w * delta % MODULUS, 0);
                for v in w + 1..=10 {
                    assert_ne!((v - w) * delta % MODULUS, 0);
                }
            }
        }
    }

    #[test]
    fn case_spaces_and_dashes_do_not_matter() {
        let code = AccessCode::generate();
        let c = code.as_canonical().to_lowercase();
        let spaced = format!("  {} {}\u{2013}{}  ", &c[0..4], &c[4..8], &c[8..]);
        assert_eq!(AccessCode::parse(&spaced).unwrap(), code);
        let nbsp = format!("{}\u{00A0}{}\u{2011}{}", &c[0..4], &c[4..8], &c[8..]);
        assert_eq!(AccessCode::parse(&nbsp).unwrap(), code);
    }

    #[test]
    fn look_alike_characters_are_refused_with_a_hint() {
        let err = AccessCode::parse("K7QF-0MXC-2T").unwrap_err();
        assert_eq!(
            err,
            CodeError::InvalidCharacter {
                character: '0',
                position: 5
            }
        );
        assert!(err.to_string().contains("never contain 0, O, 1, I or L"));
        for c in ['O', 'o', '1', 'I', 'i', 'l', 'L'] {
            let typed = format!("K7Q{c}9MXC2T");
            assert!(matches!(
                AccessCode::parse(&typed),
                Err(CodeError::InvalidCharacter { position: 4, .. })
            ));
        }
    }

    #[test]
    fn other_foreign_characters_are_refused_without_the_hint() {
        let err = AccessCode::parse("K7QF9MXC2Ư").unwrap_err();
        assert!(matches!(
            err,
            CodeError::InvalidCharacter {
                character: 'Ư',
                position: 10
            }
        ));
        assert!(!err.to_string().contains("never contain"));
        assert!(AccessCode::parse("K7QF9MXC2\u{0}").is_err());
    }

    #[test]
    fn codes_of_the_wrong_length_are_refused() {
        assert_eq!(
            AccessCode::parse("K7QF-9MXC-2"),
            Err(CodeError::WrongLength { found: 9 })
        );
        assert_eq!(
            AccessCode::parse("K7QF-9MXC-2TT"),
            Err(CodeError::WrongLength { found: 11 })
        );
        assert_eq!(
            AccessCode::parse(""),
            Err(CodeError::WrongLength { found: 0 })
        );
        assert_eq!(
            AccessCode::parse(" - - "),
            Err(CodeError::WrongLength { found: 0 })
        );
        let long = "A".repeat(100_000);
        assert_eq!(
            AccessCode::parse(&long),
            Err(CodeError::WrongLength { found: 100_000 })
        );
    }

    #[test]
    fn debug_output_never_shows_the_code() {
        let code = AccessCode::generate();
        let debug = format!("{code:?} {:?}", Some(&code));
        assert!(!debug.contains(code.as_canonical()));
        assert!(!debug.contains(&code.to_string()[0..4]));
        assert!(debug.contains("redacted"));
    }

    #[test]
    fn every_symbol_of_the_alphabet_turns_up_in_generated_codes() {
        let mut seen = [false; 31];
        for code in sample(300) {
            for b in code.as_canonical().bytes().take(RANDOM_SYMBOLS) {
                seen[value_of(b).unwrap() as usize] = true;
            }
        }
        assert!(seen.iter().all(|&s| s), "biased or truncated generator");
    }

    #[test]
    fn the_alphabet_has_no_look_alikes_and_no_repeats() {
        for c in LOOK_ALIKES.bytes() {
            assert!(!ALPHABET.contains(&c.to_ascii_uppercase()));
        }
        let mut sorted = ALPHABET.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 31);
        assert_eq!((10 * INVERSE_OF_CHECK_WEIGHT) % MODULUS, 1);
    }
}
