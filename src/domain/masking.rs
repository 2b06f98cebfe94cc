//! What public pages may show of a person (DESIGN.md, personal data): the family name and
//! initials (`Nguyễn V. A.`), the phone as `09xx xxx 678`, and no street address.

use unicode_normalization::UnicodeNormalization;

use super::phone::MobileNumber;

/// `Nguyễn Văn An` → `Nguyễn V. A.`; a one-word name keeps only its initial (`An` → `A.`),
/// since the family name is the part meant to stay visible.
pub fn mask_name(full: &str) -> String {
    // NFC first, so a decomposed `Đ` or `Ư` (letter + combining mark) is one character.
    let full: String = full.nfc().collect();
    let mut words = full.split_whitespace();
    let Some(first) = words.next() else {
        return String::new();
    };
    let rest: Vec<String> = words.map(initial).collect();
    if rest.is_empty() {
        return initial(first);
    }
    format!("{first} {}", rest.join(" "))
}

fn initial(word: &str) -> String {
    word.chars()
        .next()
        .map(|c| format!("{}.", c.to_uppercase()))
        .unwrap_or_default()
}

/// `+84912345678` → `09xx xxx 678`. A stored value that is no longer a phone (an anonymised
/// delivery) shows nothing rather than something.
pub fn mask_phone(e164: &str) -> String {
    MobileNumber::parse(e164)
        .map(|p| p.masked())
        .unwrap_or_default()
}

/// `an.nguyen@gmail.com` → `a***@gmail.com`: enough for an operator to tell two addresses
/// apart by domain, not enough to write to the citizen.
pub fn mask_email(address: &str) -> String {
    match address.rsplit_once('@') {
        Some((local, domain)) if !local.is_empty() && !domain.is_empty() => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_keep_the_first_letter_and_the_domain() {
        assert_eq!(mask_email("an.nguyen@gmail.com"), "a***@gmail.com");
        assert_eq!(mask_email("Đ@x.vn"), "Đ***@x.vn");
        assert_eq!(mask_email("not-an-address"), "");
        assert_eq!(mask_email("@x.vn"), "");
    }

    #[test]
    fn names_keep_the_family_name_and_initials() {
        assert_eq!(mask_name("Nguyễn Văn An"), "Nguyễn V. A.");
        assert_eq!(mask_name("  Trần   thị  Bích Ngọc "), "Trần T. B. N.");
        assert_eq!(mask_name("Đặng Ưng"), "Đặng Ư.");
        // Decomposed input (D + stroke is precomposed only; U + horn + combining marks).
        assert_eq!(mask_name("Lê \u{0055}\u{031B}\u{0301}ng"), "Lê Ứ.");
        assert_eq!(mask_name("An"), "A.");
        assert_eq!(mask_name(""), "");
    }

    #[test]
    fn phones_show_prefix_and_last_three() {
        assert_eq!(mask_phone("+84912345678"), "09xx xxx 678");
        assert_eq!(mask_phone("anonymised"), "");
    }
}
