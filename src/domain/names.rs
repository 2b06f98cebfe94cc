//! Comparison keys for Vietnamese place names (pure, no I/O).
//!
//! Official texts write `Hòa`, `Thủy` (old tone-mark placement) while many other sources
//! write `Hoà`, `Thuỷ`. Unicode normalisation alone does not make those equal, because the
//! tone mark sits on a different vowel. The key therefore moves each syllable's tone mark to
//! the syllable end (as a digit) and keeps every other diacritic, so `Đông` and `Đồng`, or
//! `Hắc` and `Hặc`, stay different names.

use std::sync::LazyLock;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Tone digit for a combining tone mark (VNI numbering), `None` for any other character.
fn tone_digit(c: char) -> Option<char> {
    match c {
        '\u{0301}' => Some('1'), // sắc
        '\u{0300}' => Some('2'), // huyền
        '\u{0309}' => Some('3'), // hỏi
        '\u{0303}' => Some('4'), // ngã
        '\u{0323}' => Some('5'), // nặng
        _ => None,
    }
}

/// How letters are treated: keep non-tone diacritics (key) or drop everything (fold).
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Toned,
    Folded,
}

/// Accumulates normalised output: collapses spaces, glues hyphens, flushes syllables.
struct KeyWriter {
    mode: Mode,
    out: String,
    syllable: String,
    tones: String,
    pending_space: bool,
}

impl KeyWriter {
    fn new(mode: Mode, capacity: usize) -> Self {
        KeyWriter {
            mode,
            out: String::with_capacity(capacity + 8),
            syllable: String::new(),
            tones: String::new(),
            pending_space: false,
        }
    }

    fn letter(&mut self, c: char) {
        if let Some(digit) = tone_digit(c) {
            if self.mode == Mode::Toned {
                self.tones.push(digit);
            }
        } else if is_combining_mark(c) {
            if self.mode == Mode::Toned {
                self.syllable.push(c);
            }
        } else {
            let c = if self.mode == Mode::Folded && (c == 'đ' || c == 'Đ') {
                'd'
            } else {
                c
            };
            self.syllable.extend(c.to_lowercase());
        }
    }

    fn flush(&mut self) {
        if self.syllable.is_empty() && self.tones.is_empty() {
            return;
        }
        self.emit_space();
        self.out.push_str(&self.syllable);
        self.out.push_str(&self.tones);
        self.syllable.clear();
        self.tones.clear();
    }

    fn emit_space(&mut self) {
        if self.pending_space && !self.out.is_empty() && !self.out.ends_with('-') {
            self.out.push(' ');
        }
        self.pending_space = false;
    }

    /// Separators end a syllable. Hyphens swallow the spaces around them.
    fn separator(&mut self, c: char) {
        self.flush();
        match c {
            c if c.is_whitespace() => self.pending_space = true,
            '-' | '‐' | '–' | '—' => {
                self.pending_space = false;
                self.out.push('-');
            }
            c if is_apostrophe(c) => {
                self.emit_space();
                self.out.push('\'');
            }
            other => {
                self.emit_space();
                self.out.push(other);
            }
        }
    }

    fn finish(mut self) -> String {
        self.flush();
        // Recompose so keys compare and print like ordinary NFC text.
        match self.mode {
            Mode::Toned => self.out.nfc().collect(),
            Mode::Folded => self.out,
        }
    }
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '’' | '‘' | 'ʼ' | '`')
}

fn normalise(s: &str, mode: Mode) -> String {
    let mut w = KeyWriter::new(mode, s.len());
    for c in s.nfd() {
        // U+02BC counts as a letter in Unicode, so apostrophes are checked first.
        if !is_apostrophe(c) && (c.is_alphanumeric() || is_combining_mark(c)) {
            w.letter(c);
        } else {
            w.separator(c);
        }
    }
    w.finish()
}

/// Comparison key: lower case, single spaces, no spaces around hyphens, one apostrophe
/// form, and each syllable's tone mark moved to the syllable end as a digit (1–5).
pub fn name_key(s: &str) -> String {
    normalise(s, Mode::Toned)
}

/// Last-resort key without any diacritics (`đ` → `d`), otherwise normalised like
/// [`name_key`]. Only use it when the input itself carries no diacritics, or `Đông` would
/// match `Đồng`.
pub fn ascii_fold(s: &str) -> String {
    normalise(s, Mode::Folded)
}

/// Unit-type words, in the spelling users write them; turned into key form once.
const PREFIX_WORDS: &[&str] = &[
    "phường",
    "xã",
    "đặc khu",
    "thị trấn",
    "tỉnh",
    "thành phố",
    "tp.",
    "tp",
];

/// Prefixes in both key and folded form, longest first so `tp.` wins over `tp`.
static PREFIXES: LazyLock<Vec<String>> = LazyLock::new(|| {
    let mut all: Vec<String> = PREFIX_WORDS
        .iter()
        .flat_map(|w| [name_key(w), ascii_fold(w)])
        .collect();
    all.sort_by_key(|p| std::cmp::Reverse(p.len()));
    all.dedup();
    all
});

/// Removes one leading unit-type word (`phường`, `xã`, `đặc khu`, `thị trấn`, `tỉnh`,
/// `thành phố`, `tp`, `tp.`) from a key made by [`name_key`] or [`ascii_fold`]. The word
/// must be followed by a space (or, for `tp.`, anything); a key that is only the word is
/// returned unchanged.
pub fn strip_unit_prefix(key: &str) -> &str {
    for prefix in PREFIXES.iter() {
        let Some(rest) = key.strip_prefix(prefix.as_str()) else {
            continue;
        };
        let rest = if prefix.ends_with('.') {
            rest.trim_start()
        } else if let Some(r) = rest.strip_prefix(' ') {
            r
        } else {
            continue;
        };
        if !rest.is_empty() {
            return rest;
        }
    }
    key
}

/// True when `s` has no letters beyond ASCII, i.e. the writer left out all diacritics.
pub fn is_unaccented(s: &str) -> bool {
    s.is_ascii()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tone_placement_is_ignored() {
        assert_eq!(name_key("Hòa"), name_key("Hoà"));
        assert_eq!(name_key("Thủy"), name_key("Thuỷ"));
        assert_eq!(name_key("Khánh Hòa"), name_key("khánh hoà"));
    }

    #[test]
    fn different_tones_and_letters_differ() {
        assert_ne!(name_key("Đông"), name_key("Đồng"));
        assert_ne!(name_key("Hắc"), name_key("Hặc"));
        assert_ne!(name_key("Sơn Đông"), name_key("Sơn Đồng"));
        assert_ne!(name_key("Dong"), name_key("Đông"));
        assert_ne!(name_key("Hung"), name_key("Hưng"));
    }

    #[test]
    fn nfd_case_and_spacing() {
        let nfd: String = "Phường Hòa Bình".nfd().collect();
        assert_eq!(name_key(&nfd), name_key("phường   hoà bình"));
        assert_eq!(
            name_key("  Văn Miếu - Quốc Tử Giám "),
            name_key("văn miếu-quốc tử giám")
        );
        assert_eq!(name_key("A – B"), "a-b");
        assert_eq!(name_key("Hòa"), "hoa2");
    }

    #[test]
    fn apostrophes() {
        for v in ["Ea H’Leo", "Ea H‘Leo", "Ea HʼLeo", "Ea H`Leo", "ea h'leo"] {
            assert_eq!(name_key(v), name_key("Ea H'Leo"), "{v}");
        }
    }

    #[test]
    fn key_is_nfc() {
        let k = name_key("Đồng Nai");
        assert_eq!(k, k.nfc().collect::<String>());
        assert_eq!(k, "đông2 nai");
    }

    #[test]
    fn prefixes() {
        assert_eq!(
            strip_unit_prefix(&name_key("Phường Ba Đình")),
            name_key("Ba Đình")
        );
        assert_eq!(
            strip_unit_prefix(&name_key("Xã Xa Dung")),
            name_key("Xa Dung")
        );
        assert_eq!(
            strip_unit_prefix(&name_key("Đặc khu Côn Đảo")),
            name_key("Côn Đảo")
        );
        assert_eq!(
            strip_unit_prefix(&name_key("Thị trấn Ba Chẽ")),
            name_key("Ba Chẽ")
        );
        assert_eq!(
            strip_unit_prefix(&name_key("Tỉnh Đồng Nai")),
            name_key("Đồng Nai")
        );
        assert_eq!(
            strip_unit_prefix(&name_key("Thành phố Hà Nội")),
            name_key("Hà Nội")
        );
        assert_eq!(
            strip_unit_prefix(&name_key("TP. Hồ Chí Minh")),
            name_key("Hồ Chí Minh")
        );
        assert_eq!(
            strip_unit_prefix(&name_key("TP.Hồ Chí Minh")),
            name_key("Hồ Chí Minh")
        );
        assert_eq!(
            strip_unit_prefix(&name_key("tp Hồ Chí Minh")),
            name_key("Hồ Chí Minh")
        );
        assert_eq!(strip_unit_prefix(&ascii_fold("Thanh pho Ha Noi")), "ha noi");
    }

    #[test]
    fn prefix_needs_word_boundary() {
        // `Phương Liệt` starts with the letters of `phường` only after folding.
        assert_eq!(
            strip_unit_prefix(&name_key("Phương Liệt")),
            name_key("Phương Liệt")
        );
        assert_eq!(
            strip_unit_prefix(&name_key("Tĩnh Túc")),
            name_key("Tĩnh Túc")
        );
        assert_eq!(strip_unit_prefix(&name_key("xã")), name_key("xã"));
        assert_eq!(strip_unit_prefix("tpx"), "tpx");
    }

    #[test]
    fn folding() {
        assert_eq!(ascii_fold("Đồng Nai"), "dong nai");
        assert_eq!(ascii_fold("Thủy"), ascii_fold("Thuỷ"));
        assert_eq!(ascii_fold("Ea H’Leo"), "ea h'leo");
        assert!(is_unaccented("ha noi"));
        assert!(!is_unaccented("hà nội"));
    }
}
