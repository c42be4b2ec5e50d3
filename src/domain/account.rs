//! Accounts: e-mail addresses, roles and new passwords as parsed domain values.

use std::fmt;
use std::str::FromStr;

/// A syntactically valid, lower-cased e-mail address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Parses and normalises (trim, lower-case) an address. The check is deliberately
    /// simple (one `@`, a dotted domain, no spaces): delivery is the only real proof.
    pub fn parse(raw: &str) -> Result<Self, AccountError> {
        let email = raw.trim().to_lowercase();
        let valid = email.len() <= 254
            && !email.chars().any(|c| c.is_whitespace() || c.is_control())
            && match email.split_once('@') {
                Some((local, domain)) => {
                    !local.is_empty()
                        && !domain.contains('@')
                        && domain.contains('.')
                        && !domain.starts_with('.')
                        && !domain.ends_with('.')
                        && !domain.contains("..")
                }
                None => false,
            };
        if valid {
            Ok(Self(email))
        } else {
            Err(AccountError::InvalidEmail)
        }
    }

    /// The address as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What an account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Everything, including users, methodology and publishing.
    Admin,
    /// Runs fieldwork for the units assigned to them.
    Coordinator,
    /// Reads scores and downloads data for every round.
    Analyst,
}

impl Role {
    /// The code stored in the database.
    pub fn code(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Coordinator => "coordinator",
            Role::Analyst => "analyst",
        }
    }

    /// The message-catalogue key of the role's display name.
    pub fn label_key(self) -> &'static str {
        match self {
            Role::Admin => "role.admin",
            Role::Coordinator => "role.coordinator",
            Role::Analyst => "role.analyst",
        }
    }
}

impl FromStr for Role {
    type Err = AccountError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "admin" => Ok(Role::Admin),
            "coordinator" => Ok(Role::Coordinator),
            "analyst" => Ok(Role::Analyst),
            other => Err(AccountError::UnknownRole(other.to_owned())),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Reads the stored TEXT: the database edge loads accounts through this, so a corrupted role
/// fails the query instead of granting anything.
impl TryFrom<String> for Role {
    type Error = AccountError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

/// A new password that meets the policy. Its `Debug` hides the value, so it never reaches a log.
#[derive(Clone)]
pub struct NewPassword(String);

/// The shortest password accepted. Length beats composition rules (NIST SP 800-63B).
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The longest password accepted, bounding the hashing work an attacker can ask for.
pub const MAX_PASSWORD_CHARS: usize = 256;

impl NewPassword {
    /// Accepts a password of 12 to 256 characters.
    pub fn parse(raw: &str) -> Result<Self, AccountError> {
        let chars = raw.chars().count();
        if chars < MIN_PASSWORD_CHARS {
            Err(AccountError::PasswordTooShort)
        } else if chars > MAX_PASSWORD_CHARS {
            Err(AccountError::PasswordTooLong)
        } else {
            Ok(Self(raw.to_owned()))
        }
    }

    /// The password, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(****)")
    }
}

/// A new password typed twice, as every form that sets one asks it: the policy of
/// [`NewPassword::parse`] first, then the confirmation (a mismatch is only worth reporting
/// once the password itself is acceptable).
pub fn parse_password_pair(
    password: &str,
    confirmation: &str,
) -> Result<NewPassword, AccountError> {
    let parsed = NewPassword::parse(password)?;
    if password == confirmation {
        Ok(parsed)
    } else {
        Err(AccountError::PasswordMismatch)
    }
}

/// The stored password hash of an account whose owner has not chosen a password yet (one an
/// administrator made, waiting for its link to be used). It is not a PHC string, so no
/// password ever verifies against it, and no hash function produces it.
pub const NO_PASSWORD: &str = "!no-password";

/// Whether a stored hash is a real password (not [`NO_PASSWORD`]).
pub fn has_password(stored_hash: &str) -> bool {
    stored_hash != NO_PASSWORD
}

/// Why account input was refused. Each variant has a message-catalogue key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    /// Not an e-mail address.
    #[error("not a valid e-mail address")]
    InvalidEmail,
    /// Not one of admin, coordinator, analyst.
    #[error("unknown role '{0}': use admin, coordinator or analyst")]
    UnknownRole(String),
    /// Fewer than [`MIN_PASSWORD_CHARS`] characters.
    #[error("the password must have at least 12 characters")]
    PasswordTooShort,
    /// More than [`MAX_PASSWORD_CHARS`] characters.
    #[error("the password must have at most 256 characters")]
    PasswordTooLong,
    /// The confirmation differs from the password.
    #[error("the two passwords differ")]
    PasswordMismatch,
    /// A display name is required.
    #[error("a name is required")]
    NameRequired,
}

impl AccountError {
    /// The message-catalogue key for showing this error to a user.
    pub fn message_key(&self) -> &'static str {
        match self {
            AccountError::InvalidEmail => "error.email_invalid",
            AccountError::UnknownRole(_) => "error.role_unknown",
            AccountError::PasswordTooShort => "error.password_too_short",
            AccountError::PasswordTooLong => "error.password_too_long",
            AccountError::PasswordMismatch => "error.password_mismatch",
            AccountError::NameRequired => "error.name_required",
        }
    }
}

/// A display name: trimmed, non-empty, at most 200 characters.
pub fn parse_name(raw: &str) -> Result<String, AccountError> {
    let name = raw.trim();
    if name.is_empty() {
        Err(AccountError::NameRequired)
    } else {
        Ok(name.chars().take(200).collect())
    }
}

/// A unit reference typed by a person (a code, or a name with or without diacritics and with
/// or without "Tỉnh"/"Thành phố") reduced to what is compared: folded, spaces collapsed, the
/// administrative prefix dropped. `Thành phố Hà Nội`, `ha  noi` and `HÀ NỘI` give `ha noi`.
pub fn unit_match_key(text: &str) -> String {
    let folded = crate::domain::tabular::fold(text);
    let words: Vec<&str> = folded.split_whitespace().collect();
    let rest = match words.as_slice() {
        ["tinh", rest @ ..] | ["thanh", "pho", rest @ ..] | ["tp" | "tp.", rest @ ..]
            if !rest.is_empty() =>
        {
            rest
        }
        all => all,
    };
    rest.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lower_cased() {
        assert_eq!(
            Email::parse("  Admin@SoNoiVu.Gov.VN ").unwrap().as_str(),
            "admin@sonoivu.gov.vn"
        );
    }

    #[test]
    fn malformed_emails_are_refused() {
        for bad in [
            "", "a", "a@b", "@b.vn", "a@@b.vn", "a b@c.vn", "a@.vn", "a@b..vn", "a@b.vn.",
        ] {
            assert_eq!(Email::parse(bad), Err(AccountError::InvalidEmail), "{bad}");
        }
    }

    #[test]
    fn roles_parse_from_their_codes_only() {
        assert_eq!("analyst".parse::<Role>(), Ok(Role::Analyst));
        assert_eq!(Role::Coordinator.code(), "coordinator");
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn passwords_need_twelve_characters_counted_as_characters() {
        assert_eq!(
            NewPassword::parse("short").unwrap_err(),
            AccountError::PasswordTooShort
        );
        // Twelve Vietnamese letters are twelve characters even though they take more bytes.
        assert!(NewPassword::parse("đường_cải_ca").is_ok());
        assert_eq!(
            NewPassword::parse(&"x".repeat(257)).unwrap_err(),
            AccountError::PasswordTooLong
        );
    }

    #[test]
    fn unit_references_match_without_case_diacritics_or_prefix() {
        for typed in ["Thành phố Hà Nội", "ha  noi", "HÀ NỘI", "TP Hà Nội"] {
            assert_eq!(unit_match_key(typed), "ha noi", "{typed}");
        }
        assert_eq!(unit_match_key("Tỉnh Đắk Lắk"), "dak lak");
        // A name that is only the prefix word stays as typed.
        assert_eq!(unit_match_key("Tỉnh"), "tinh");
    }

    #[test]
    fn a_password_pair_reports_the_policy_before_the_confirmation() {
        assert_eq!(
            parse_password_pair("short", "other").unwrap_err(),
            AccountError::PasswordTooShort
        );
        assert_eq!(
            parse_password_pair("correct horse battery", "correct horse batter").unwrap_err(),
            AccountError::PasswordMismatch
        );
        assert!(parse_password_pair("correct horse battery", "correct horse battery").is_ok());
    }

    #[test]
    fn the_no_password_marker_is_no_phc_string() {
        assert!(!has_password(NO_PASSWORD));
        assert!(!NO_PASSWORD.starts_with('$'));
        assert!(has_password("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"));
    }

    #[test]
    fn password_debug_output_hides_the_password() {
        let p = NewPassword::parse("correct horse battery").unwrap();
        assert!(!format!("{p:?}").contains("horse"));
    }
}
