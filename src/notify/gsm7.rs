//! SMS text: unaccented Vietnamese in the GSM 03.38 alphabet, so a message is one 160-septet
//! segment. Brandname gateways bill per segment, drop to 70 characters per segment at the
//! first accented letter, and many reject `# & [ ] { } \ < @` outright (DESIGN.md).

use unicode_normalization::UnicodeNormalization;

/// The longest text that fits one GSM-7 segment.
pub const SEGMENT: usize = 160;

/// GSM 03.38 basic character set (no escape table): each is one septet.
const BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡\
ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// Basic-set characters gateways commonly refuse, or that the escape table would double.
const RISKY: &str = "#&<>@\\[]{}|^~`";

/// Unaccented text every gateway takes: Vietnamese letters lose their marks (đ→d, Đ→D),
/// typography becomes ASCII, risky characters get safe stand-ins, and what is left outside
/// plain ASCII letters, digits and `! " % ' ( ) * + , - . / : ; = ? _ $` and spaces is
/// dropped (emoji, other scripts). Line breaks are kept; other whitespace becomes a space.
pub fn transliterate(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.nfd() {
        match c {
            // Combining diacritical marks: the tones and hats NFD split off the letters.
            '\u{0300}'..='\u{036f}' => {}
            'đ' => out.push('d'),
            'Đ' => out.push('D'),
            '\n' => out.push('\n'),
            c if c.is_whitespace() => out.push(' '),
            '‘' | '’' | '‚' | '′' => out.push('\''),
            '“' | '”' | '„' | '«' | '»' | '″' => out.push('"'),
            '–' | '—' | '‒' | '−' | '•' | '·' => out.push('-'),
            '…' => out.push_str("..."),
            '&' => out.push_str("va"),
            '@' => out.push_str("(a)"),
            '#' => out.push_str("so "),
            '[' | '{' | '<' => out.push('('),
            ']' | '}' | '>' => out.push(')'),
            '\\' | '|' => out.push('/'),
            '^' | '~' | '`' => out.push('-'),
            '€' => out.push_str("EUR"),
            c if is_safe(c) => out.push(c),
            _ => {}
        }
    }
    out
}

fn is_safe(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == ' ' || c == '\n' || "!\"%'()*+,-./:;=?_$".contains(c)
}

/// Every character is in the GSM 03.38 basic set.
pub fn is_gsm7(text: &str) -> bool {
    text.chars().all(|c| BASIC.contains(c))
}

/// GSM-7 and free of the characters gateways refuse.
pub fn is_gateway_safe(text: &str) -> bool {
    is_gsm7(text) && !text.chars().any(|c| RISKY.contains(c))
}

/// Septets the text takes; every basic-set character is one.
pub fn septets(text: &str) -> usize {
    text.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnamese_letters_lose_their_marks() {
        assert_eq!(
            transliterate("Đường Nguyễn Thị Minh Khai, phường Bến Thành"),
            "Duong Nguyen Thi Minh Khai, phuong Ben Thanh"
        );
        assert_eq!(transliterate("ĐỒNG THÁP, đắk lắk"), "DONG THAP, dak lak");
    }

    #[test]
    fn decomposed_input_gives_the_same_text() {
        let nfd: String = "Thừa Thiên Huế".nfd().collect();
        assert_eq!(transliterate(&nfd), "Thua Thien Hue");
    }

    #[test]
    fn risky_and_typographic_characters_get_stand_ins() {
        assert_eq!(
            transliterate("Số #12 [A] {B} <C> a@b.vn & “x” – y… \\ |"),
            "So so 12 (A) (B) (C) a(a)b.vn va \"x\" - y... / /"
        );
        assert_eq!(transliterate("ok 👍 中"), "ok  ");
        assert_eq!(transliterate("a\u{a0}b\tc\nd"), "a b c\nd");
    }

    #[test]
    fn output_is_always_gateway_safe() {
        let nasty = "€ ½ ¥ £ § ¿ ¡ Ä ö ñ à è é ù ì ò Ç Ø Å Δ _ Φ ~ ^ ` ∑ ✓ \u{200b}";
        let out = transliterate(nasty);
        assert!(is_gateway_safe(&out), "{out:?}");
    }

    #[test]
    fn gsm7_checks_the_basic_set() {
        assert!(is_gsm7(
            "Ma tra cuu ABCD-2345-XY: https://x.vn/track/ABCD2345XY"
        ));
        assert!(!is_gsm7("Mã"));
        assert!(!is_gsm7("{x}"));
        assert!(is_gsm7("#"));
        assert!(!is_gateway_safe("#"));
        assert_eq!(septets("abc"), 3);
    }
}
