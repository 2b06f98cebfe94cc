//! Vietnamese mobile numbers: accept what people write, store E.164 (`+849…`).

/// Pre-2018 11-digit prefixes and their 10-digit replacements (MIC's 2018 conversion).
const OLD_PREFIXES: [(&str, &str); 21] = [
    ("0162", "032"),
    ("0163", "033"),
    ("0164", "034"),
    ("0165", "035"),
    ("0166", "036"),
    ("0167", "037"),
    ("0168", "038"),
    ("0169", "039"),
    ("0120", "070"),
    ("0121", "079"),
    ("0122", "077"),
    ("0126", "076"),
    ("0128", "078"),
    ("0123", "083"),
    ("0124", "084"),
    ("0125", "085"),
    ("0127", "081"),
    ("0129", "082"),
    ("0186", "056"),
    ("0188", "058"),
    ("0199", "059"),
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("is empty")]
    Empty,
    #[error("may hold only digits, spaces, dots, dashes, brackets and a leading +")]
    BadCharacters,
    #[error("is not a Vietnamese mobile number (10 digits starting 03, 05, 07, 08 or 09)")]
    NotMobile,
}

/// A normalised Vietnamese mobile number.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MobileNumber(String);

impl MobileNumber {
    /// Accepts `09…`, `+849…`, `849…`, `(+84) 9…`, spaces, dots and dashes, and pre-2018
    /// 11-digit numbers (converted by the official prefix table).
    pub fn parse(raw: &str) -> Result<Self, PhoneError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(PhoneError::Empty);
        }
        let mut digits = String::with_capacity(trimmed.len());
        for (i, c) in trimmed.chars().enumerate() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '.' | '-' | '(' | ')' => {}
                '+' if digits.is_empty() && i <= 1 => {}
                _ => return Err(PhoneError::BadCharacters),
            }
        }
        // The country code, written with or without the national 0 after it.
        let national = match digits.strip_prefix("84") {
            Some(rest) if rest.starts_with('0') => rest.to_owned(),
            Some(rest) => format!("0{rest}"),
            None => digits,
        };
        let national = convert_old(&national).unwrap_or(national);
        if is_mobile(&national) {
            Ok(Self(format!("+84{}", &national[1..])))
        } else {
            Err(PhoneError::NotMobile)
        }
    }

    /// `+84912345678`
    pub fn e164(&self) -> &str {
        &self.0
    }

    /// `0912345678`
    pub fn national(&self) -> String {
        format!("0{}", &self.0[3..])
    }

    /// The last four digits, which a citizen uses to prove a parcel is theirs.
    pub fn last4(&self) -> &str {
        &self.0[self.0.len() - 4..]
    }

    /// `09xx xxx 678`: what public pages may show.
    pub fn masked(&self) -> String {
        let n = self.national();
        format!("{}xx xxx {}", &n[..2], &n[n.len() - 3..])
    }
}

fn convert_old(national: &str) -> Option<String> {
    if national.len() != 11 {
        return None;
    }
    OLD_PREFIXES
        .iter()
        .find(|(old, _)| national.starts_with(old))
        .map(|(old, new)| format!("{new}{}", &national[old.len()..]))
}

/// `^0(3[2-9]|5[25689]|7[06-9]|8[1-9]|9[0-46-9])\d{7}$`
fn is_mobile(n: &str) -> bool {
    let b = n.as_bytes();
    if b.len() != 10 || b[0] != b'0' || !b.iter().all(u8::is_ascii_digit) {
        return false;
    }
    match (b[1], b[2]) {
        (b'3', c) => (b'2'..=b'9').contains(&c),
        (b'5', c) => b"25689".contains(&c),
        (b'7', c) => c == b'0' || (b'6'..=b'9').contains(&c),
        (b'8', c) => (b'1'..=b'9').contains(&c),
        (b'9', c) => c != b'5',
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_people_write() {
        for raw in [
            "0912345678",
            "+84912345678",
            "84912345678",
            "091 234 5678",
            "0912.345.678",
            "(+84) 91-234-5678",
            "+84 0912345678",
        ] {
            assert_eq!(
                MobileNumber::parse(raw).map(|m| m.e164().to_owned()),
                Ok("+84912345678".into()),
                "{raw}"
            );
        }
    }

    #[test]
    fn converts_pre_2018_numbers() {
        assert_eq!(
            MobileNumber::parse("01662345678").map(|m| m.national()),
            Ok("0362345678".into())
        );
        assert_eq!(
            MobileNumber::parse("01202345678").map(|m| m.national()),
            Ok("0702345678".into())
        );
        assert_eq!(
            MobileNumber::parse("+841992345678").map(|m| m.national()),
            Ok("0592345678".into())
        );
        assert_eq!(
            MobileNumber::parse("01272345678").map(|m| m.national()),
            Ok("0812345678".into())
        );
    }

    #[test]
    fn refuses_landlines_and_junk() {
        assert_eq!(
            MobileNumber::parse("0243826 1234"),
            Err(PhoneError::NotMobile),
            "Hà Nội landline"
        );
        assert_eq!(
            MobileNumber::parse("0952345678"),
            Err(PhoneError::NotMobile),
            "095 is not allocated"
        );
        assert_eq!(
            MobileNumber::parse("0312345678"),
            Err(PhoneError::NotMobile)
        );
        assert_eq!(MobileNumber::parse("091234567"), Err(PhoneError::NotMobile));
        assert_eq!(
            MobileNumber::parse("09123456789"),
            Err(PhoneError::NotMobile)
        );
        assert_eq!(
            MobileNumber::parse("0912a45678"),
            Err(PhoneError::BadCharacters)
        );
        assert_eq!(MobileNumber::parse("  "), Err(PhoneError::Empty));
    }

    #[test]
    fn masks_and_last4() {
        let m = MobileNumber::parse("0912345678").unwrap();
        assert_eq!(m.masked(), "09xx xxx 678");
        assert_eq!(m.last4(), "5678");
    }
}
