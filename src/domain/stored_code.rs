//! One definition for the small enums stored as TEXT codes (job, outbox and paper-entry states).
//!
//! Each such enum needs the same five things: its list of values, the code it is stored as,
//! `Display`, `FromStr`, and `TryFrom<String>` for the database edge, where a corrupted value must
//! fail the query instead of becoming a default. Writing them by hand for every enum let the
//! copies drift, so [`stored_code!`](crate::stored_code) writes them from one table of
//! `Variant = "code"` lines.

/// A stored code that is not one of the enum's (for example a corrupted database value).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} '{code}'")]
pub struct UnknownCode {
    /// What was being read, such as "export job status".
    pub what: &'static str,
    /// The stored text, cut to 40 characters so a huge value cannot flood a log.
    pub code: String,
}

/// Defines an enum stored as TEXT codes: the enum itself (with serde's `snake_case` names),
/// `ALL`, `code()`, `Display`, `FromStr` and `TryFrom<String>`, failing with
/// [`UnknownCode`].
///
/// ```ignore
/// stored_code! {
///     /// Where an export job is.
///     pub enum ExportJobStatus ("export job status") {
///         /// Waiting for a worker.
///         Queued = "queued",
///     }
/// }
/// ```
#[macro_export]
macro_rules! stored_code {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident ($what:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $code:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every value, in their usual order.
            pub const ALL: [$name; [$(stringify!($variant)),+].len()] = [$($name::$variant),+];

            /// The TEXT stored in the database.
            pub fn code(self) -> &'static str {
                match self {
                    $( $name::$variant => $code, )+
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.code())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::domain::stored_code::UnknownCode;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::ALL
                    .into_iter()
                    .find(|value| value.code() == s)
                    .ok_or_else(|| $crate::domain::stored_code::UnknownCode {
                        what: $what,
                        code: s.chars().take(40).collect(),
                    })
            }
        }

        /// Reads the stored TEXT: the database edge loads rows through this, so a corrupted
        /// value fails the query instead of becoming a default.
        impl TryFrom<String> for $name {
            type Error = $crate::domain::stored_code::UnknownCode;

            fn try_from(text: String) -> Result<Self, Self::Error> {
                text.parse()
            }
        }
    };
}

#[cfg(test)]
mod tests {
    crate::stored_code! {
        /// A test enum.
        enum Light ("light") {
            /// Stop.
            Red = "red",
            /// Go.
            Green = "green",
        }
    }

    #[test]
    fn every_value_reads_back_from_its_code_and_nothing_else_does() {
        assert_eq!(Light::ALL, [Light::Red, Light::Green]);
        for value in Light::ALL {
            assert_eq!(value.code().parse::<Light>(), Ok(value));
            assert_eq!(Light::try_from(value.to_string()), Ok(value));
        }
        let error = "RED".parse::<Light>().unwrap_err();
        assert_eq!(error.to_string(), "unknown light 'RED'");
        assert_eq!("x".repeat(100).parse::<Light>().unwrap_err().code.len(), 40);
    }
}
