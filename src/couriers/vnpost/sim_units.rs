//! The simulator's address master data (`getNewProvinceAll`, `getNewCommuneAll`): every
//! province and commune of the official 2025 map, as VNPost lists them (couriers.md §2A).
//!
//! - Ids are VNPost's postal-prefix style, never GSO codes: a province is its two-digit postal
//!   prefix (`10` Hà Nội, `70` HCMC, `94` Cần Thơ), a commune that prefix plus 101, 102, …
//!   in GSO order (`10101` Phường Ba Đình).
//! - Names keep their type word (`Thành phố Hà Nội`, `Phường Ba Đình`) but are those of
//!   1 July 2025 (VNPost has not followed the 2026 renames) and write tone marks in the
//!   newer placement (`Hoà`, `Thuỷ`), which official texts do not.
//! - A few deliberate differences from the official map ([`RESPELLED`], [`MISSING`],
//!   [`EXTRA`]), as a real courier list has them, exercise the unit sync's report.
//!
//! Built once, at first use, from the embedded units.

use std::sync::OnceLock;

use crate::couriers::sim_official::{Names, official_lists, wards_of};
use crate::units::Ward;
use crate::units::codes::parse_code;

/// VNPost's postal prefix for each 2025 province, by GSO code: the national postcode prefix
/// of the province whose name the new one kept (Tây Ninh takes Long An's `82`, where its new
/// seat is).
const PREFIXES: [(&str, &str); 34] = [
    ("01", "10"),
    ("04", "21"),
    ("08", "22"),
    ("11", "32"),
    ("12", "30"),
    ("14", "34"),
    ("15", "31"),
    ("19", "24"),
    ("20", "25"),
    ("22", "01"),
    ("24", "16"),
    ("25", "35"),
    ("31", "04"),
    ("33", "17"),
    ("37", "08"),
    ("38", "40"),
    ("40", "43"),
    ("42", "45"),
    ("44", "48"),
    ("46", "49"),
    ("48", "50"),
    ("51", "53"),
    ("52", "61"),
    ("56", "57"),
    ("66", "63"),
    ("68", "66"),
    ("75", "76"),
    ("79", "70"),
    ("80", "82"),
    ("82", "81"),
    ("86", "85"),
    ("91", "90"),
    ("92", "94"),
    ("96", "98"),
];

/// Quirk: listed under an older spelling (`Quí` for the official `Quý`): GSO code, name.
const RESPELLED: (&str, &str) = ("15412", "Xã Quí Lộc");
/// Quirk: not listed (VNPost has no route to Đặc khu Trường Sa, Khánh Hòa).
const MISSING: &str = "22736";
/// Quirk: still listed though abolished on 1 July 2025 (merged into Phường Sài Gòn):
/// province GSO code, commune suffix, name.
const EXTRA: (&str, &str, &str) = ("79", "999", "Phường Bến Nghé");

pub struct SimProvince {
    pub code: &'static str,
    pub name: String,
}

struct SimCommune {
    /// The five digits as a number (`01101` is 1101).
    code: u32,
    /// Index in `SimLists::names`.
    name: u32,
    province_code: &'static str,
}

/// Both lists, in a few large blocks (see [`Names`]).
pub struct SimLists {
    pub provinces: Vec<SimProvince>,
    /// Sorted by code.
    communes: Vec<SimCommune>,
    names: Names,
}

impl SimLists {
    /// Every commune as (code, name, province code), by code.
    pub fn communes(&self) -> impl Iterator<Item = (String, &str, &'static str)> {
        self.communes.iter().map(|c| {
            (
                format!("{:05}", c.code),
                self.names.get(c.name),
                c.province_code,
            )
        })
    }

    /// Numbered before the quirks are applied, so leaving a commune out shifts no other id.
    fn add_communes(&mut self, prefix: &'static str, wards: &[Ward]) {
        let Some(base) = parse_code(prefix, 2).map(|p| p * 1000 + 101) else {
            return;
        };
        for (n, w) in (base..).zip(wards) {
            if w.code == MISSING {
                continue;
            }
            let name = if w.code == RESPELLED.0 {
                self.names.push(RESPELLED.1)
            } else {
                let name = w.name_2025.as_deref().unwrap_or(&w.name);
                self.names.push(&newer_tone_placement(name))
            };
            self.communes.push(SimCommune {
                code: n,
                name,
                province_code: prefix,
            });
        }
    }
}

static LISTS: OnceLock<SimLists> = OnceLock::new();

/// Both lists, built at first use.
pub fn lists() -> &'static SimLists {
    LISTS.get_or_init(build)
}

pub fn commune_known(code: &str) -> bool {
    parse_code(code, 5).is_some_and(|n| {
        lists()
            .communes
            .binary_search_by_key(&n, |c| c.code)
            .is_ok()
    })
}

fn build() -> SimLists {
    let (official, wards) = official_lists();
    let bytes = wards.iter().map(|w| w.name.len()).sum::<usize>();
    let mut lists = SimLists {
        provinces: Vec::with_capacity(official.len()),
        communes: Vec::with_capacity(wards.len() + 1),
        names: Names::with_capacity(wards.len() + 1, bytes + 64),
    };
    for p in &official {
        let Some(&(_, prefix)) = PREFIXES.iter().find(|(gso, _)| *gso == p.code) else {
            continue;
        };
        let name = p.name_2025.as_deref().unwrap_or(&p.name);
        lists.provinces.push(SimProvince {
            code: prefix,
            name: newer_tone_placement(name),
        });
        lists.add_communes(prefix, wards_of(&wards, &p.code));
        if p.code == EXTRA.0
            && let Some(code) = parse_code(&format!("{prefix}{}", EXTRA.1), 5)
        {
            let name = lists.names.push(EXTRA.2);
            lists.communes.push(SimCommune {
                code,
                name,
                province_code: prefix,
            });
        }
    }
    lists.communes.sort_by_key(|c| c.code);
    lists.names.shrink_to_fit();
    lists
}

const TONED_O: [char; 5] = ['ò', 'ó', 'ỏ', 'õ', 'ọ'];
const TONED_U: [char; 5] = ['ù', 'ú', 'ủ', 'ũ', 'ụ'];
const TONED_A: [char; 5] = ['à', 'á', 'ả', 'ã', 'ạ'];
const TONED_E: [char; 5] = ['è', 'é', 'ẻ', 'ẽ', 'ẹ'];
const TONED_Y: [char; 5] = ['ỳ', 'ý', 'ỷ', 'ỹ', 'ỵ'];

/// Moves the tone mark of a syllable-final `oa`, `oe`, `uy` to its last vowel, as many
/// sources other than official texts write it: `Hòa` → `Hoà`, `Thủy` → `Thuỷ`.
fn newer_tone_placement(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len());
    let mut i = 0;
    while i < chars.len() {
        let next = chars.get(i + 1).copied();
        let syllable_ends = chars.get(i + 2).is_none_or(|c| !c.is_alphabetic());
        let moved = syllable_ends.then(|| moved_tone(chars[i], next?)).flatten();
        match moved {
            Some((first, second)) => {
                out.push(first);
                out.push(second);
                i += 2;
            }
            None => {
                out.push(chars[i]);
                i += 1;
            }
        }
    }
    out
}

/// `('ò', 'a')` → `('o', 'à')`; `None` when the pair is not a toned `oa`, `oe` or `uy`.
fn moved_tone(first: char, second: char) -> Option<(char, char)> {
    let tone_in = |set: &[char; 5]| set.iter().position(|&c| c == first);
    if let Some(t) = tone_in(&TONED_O) {
        return match second {
            'a' => Some(('o', TONED_A[t])),
            'e' => Some(('o', TONED_E[t])),
            _ => None,
        };
    }
    let t = tone_in(&TONED_U)?;
    (second == 'y').then(|| ('u', TONED_Y[t]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tone_marks_move_to_the_last_vowel_of_open_syllables() {
        assert_eq!(newer_tone_placement("Tỉnh Khánh Hòa"), "Tỉnh Khánh Hoà");
        assert_eq!(newer_tone_placement("Xã Thủy Xuân"), "Xã Thuỷ Xuân");
        assert_eq!(newer_tone_placement("Xã Khỏe"), "Xã Khoẻ");
        // Closed syllables and other vowels keep their marks.
        assert_eq!(newer_tone_placement("Phường Hoàng Mai"), "Phường Hoàng Mai");
        assert_eq!(newer_tone_placement("Xã Hòang"), "Xã Hòang");
        assert_eq!(newer_tone_placement("Phường Ba Đình"), "Phường Ba Đình");
    }

    #[test]
    fn lists_the_whole_map_with_postal_prefix_ids() {
        let lists = lists();
        assert_eq!(lists.provinces.len(), 34);
        // 3,321 official communes, one missing, one extra.
        let communes: Vec<(String, &str, &str)> = lists.communes().collect();
        assert_eq!(communes.len(), 3_321);
        for (gso, prefix) in PREFIXES {
            assert_ne!(gso, prefix, "a VNPost id must never be the GSO code");
        }
        let mut codes: Vec<&str> = communes.iter().map(|c| c.0.as_str()).collect();
        codes.dedup();
        assert_eq!(codes.len(), communes.len(), "commune codes are distinct");
        assert!(
            communes
                .iter()
                .all(|(code, _, province)| code.len() == 5 && code.starts_with(province))
        );
        assert!(
            communes.iter().any(|c| c.0 == "01101"),
            "leading zeros kept"
        );
        assert!(commune_known("01101") && !commune_known("1101"));
        let hanoi = &lists.provinces.iter().find(|p| p.code == "10").unwrap();
        assert_eq!(hanoi.name, "Thành phố Hà Nội");
        let ba_dinh = communes.iter().find(|c| c.0 == "10101").unwrap();
        assert_eq!(ba_dinh.1, "Phường Ba Đình");
        assert!(commune_known("10101") && !commune_known("00004"));
    }

    #[test]
    fn names_are_those_of_july_2025_with_the_quirks() {
        let lists = lists();
        let name = |n: &str| lists.communes().any(|(_, name, _)| name == n);
        assert!(lists.provinces.iter().any(|p| p.name == "Tỉnh Đồng Nai"));
        assert!(lists.provinces.iter().any(|p| p.name == "Tỉnh Khánh Hoà"));
        assert!(name("Xã Lộc Ninh") && !name("Phường Lộc Ninh"));
        assert!(name("Xã Quí Lộc") && !name("Xã Quý Lộc"));
        assert!(!name("Đặc khu Trường Sa"));
        assert!(commune_known("70999") && name("Phường Bến Nghé"));
    }
}
