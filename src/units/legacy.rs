//! Old (pre-2025) ward codes → the 2025 ward(s) they went into.
//!
//! Only the old table is read here: 3,316 new codes equal some old code, often for a
//! different place, so an old code must never be looked up among the new wards.

use serde::Serialize;

use super::codes::parse_code;
use super::{LegacyLink, Province, Units, Ward};

/// Sort key for district-only rows (no old ward code), placing them after all wards.
const DISTRICT_ONLY: u32 = u32::MAX;

/// Numeric old ward codes parallel to the (sorted) links, for binary search.
pub(crate) struct LegacyIndex {
    keys: Vec<u32>,
}

impl LegacyIndex {
    /// Sorts `links` by old ward code (stable, so file order is kept within a ward).
    pub(crate) fn new(links: &mut [LegacyLink]) -> LegacyIndex {
        let key = |l: &LegacyLink| l.old_ward_code.as_deref().and_then(|c| parse_code(c, 5));
        links.sort_by_key(|l| key(l).unwrap_or(DISTRICT_ONLY));
        LegacyIndex {
            keys: links
                .iter()
                .map(|l| key(l).unwrap_or(DISTRICT_ONLY))
                .collect(),
        }
    }

    fn range(&self, code: u32) -> std::ops::Range<usize> {
        let start = self.keys.partition_point(|&k| k < code);
        let end = start + self.keys[start..].partition_point(|&k| k == code);
        start..end
    }
}

/// One new ward an old unit went (wholly or partly) into.
#[derive(Clone, Debug, Serialize)]
pub struct LegacyCandidate<'a> {
    pub ward: &'a Ward,
    pub province: &'a Province,
    /// Only part of the old unit went into this ward.
    pub partial: bool,
}

/// What an old code became. `old_code` is the old ward code, or the old district code
/// for the five districts that had no communes.
#[derive(Clone, Debug, Serialize)]
pub struct LegacyResolution<'a> {
    pub old_code: &'a str,
    pub old_name: Option<&'a str>,
    pub old_district_code: &'a str,
    pub old_district_name: &'a str,
    pub old_province_code: &'a str,
    pub old_province_name: &'a str,
    pub candidates: Vec<LegacyCandidate<'a>>,
}

impl LegacyResolution<'_> {
    /// The old ward was divided among several new wards; ask for more of the address.
    pub fn is_split(&self) -> bool {
        self.candidates.len() > 1
    }
}

impl Units {
    /// Resolves an OLD (pre-2025) 5-digit ward code, or the 3-digit code of one of the
    /// five old districts without communes (e.g. `755` Côn Đảo). Never reads 2025 codes.
    pub fn legacy(&self, old_code: &str) -> Option<LegacyResolution<'_>> {
        let links = self.legacy_links();
        let slice = match old_code.len() {
            5 => &links[self.legacy.range(parse_code(old_code, 5)?)],
            3 => {
                parse_code(old_code, 3)?;
                let district_rows = &links[self.legacy.range(DISTRICT_ONLY)];
                let start = district_rows
                    .iter()
                    .position(|l| *l.old_district_code == *old_code)?;
                let len = district_rows[start..]
                    .iter()
                    .take_while(|l| *l.old_district_code == *old_code)
                    .count();
                &district_rows[start..start + len]
            }
            _ => return None,
        };
        let first = slice.first()?;
        let candidates = slice
            .iter()
            .filter_map(|l| {
                let i = self.ward_index(&l.new_ward_code)?;
                Some(LegacyCandidate {
                    ward: &self.wards()[i],
                    province: self.province_at(i),
                    partial: l.partial,
                })
            })
            .collect();
        Some(LegacyResolution {
            old_code: first
                .old_ward_code
                .as_deref()
                .unwrap_or(&first.old_district_code),
            old_name: first.old_ward_name.as_deref(),
            old_district_code: &first.old_district_code,
            old_district_name: &first.old_district_name,
            old_province_code: &first.old_province_code,
            old_province_name: &first.old_province_name,
            candidates,
        })
    }
}
