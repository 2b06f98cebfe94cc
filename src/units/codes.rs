//! Administrative codes are fixed-length digit strings with leading zeros.

/// True for a code of exactly `len` ASCII digits (`00004`, `01`): the one check every
/// caller of a ward or province code uses.
pub fn is_code(s: &str, len: usize) -> bool {
    parse_code(s, len).is_some()
}

/// Parses a code of exactly `len` ASCII digits; anything else is `None`.
pub(crate) fn parse_code(s: &str, len: usize) -> Option<u32> {
    if s.len() != len || len > 9 {
        return None;
    }
    s.bytes().try_fold(0u32, |acc, b| {
        b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::parse_code;

    #[test]
    fn codes() {
        assert_eq!(parse_code("00004", 5), Some(4));
        assert_eq!(parse_code("23737", 5), Some(23737));
        assert_eq!(parse_code("2373", 5), None);
        assert_eq!(parse_code("12a45", 5), None);
        assert_eq!(parse_code("+1234", 5), None);
        assert_eq!(parse_code("01", 2), Some(1));
    }
}
