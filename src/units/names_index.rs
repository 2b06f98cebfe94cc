//! Name lookup for wards and provinces.
//!
//! Each unit is indexed under its full name and its name without the type word, in two
//! forms: the tone-aware key ([`name_key`]) and the unaccented fold ([`ascii_fold`]). The
//! fold is consulted only for input typed without any diacritics, so `Đông` never matches
//! `Đồng`, while `dong nai` still finds Đồng Nai when that is the only match.

use serde::Serialize;

use super::{Province, Units, Ward};
use crate::domain::names::{ascii_fold, is_unaccented, name_key, strip_unit_prefix};

/// A sorted (key, unit index) list; compact and binary-searchable.
struct KeyList(Vec<(Box<str>, u16)>);

impl KeyList {
    fn build(names: &[(u16, &str)], fold: bool) -> KeyList {
        let mut v = Vec::with_capacity(names.len() * 2);
        for &(idx, name) in names {
            let key = if fold {
                ascii_fold(name)
            } else {
                name_key(name)
            };
            let stripped = strip_unit_prefix(&key);
            if stripped != key {
                v.push((Box::from(stripped), idx));
            }
            v.push((key.into_boxed_str(), idx));
        }
        v.sort_unstable();
        v.dedup();
        v.shrink_to_fit();
        KeyList(v)
    }

    fn get(&self, key: &str) -> impl Iterator<Item = usize> + use<'_> {
        let start = self.0.partition_point(|(k, _)| &**k < key);
        let len = self.0[start..].partition_point(|(k, _)| &**k == key);
        self.0[start..start + len]
            .iter()
            .map(|&(_, i)| usize::from(i))
    }
}

/// Tone-aware and folded indexes over one kind of unit.
struct NameIndex {
    toned: KeyList,
    folded: KeyList,
}

impl NameIndex {
    fn new<'a>(names: impl Iterator<Item = (usize, &'a str)>) -> NameIndex {
        let names: Vec<(u16, &str)> = names
            .filter_map(|(i, n)| Some((u16::try_from(i).ok()?, n)))
            .collect();
        NameIndex {
            toned: KeyList::build(&names, false),
            folded: KeyList::build(&names, true),
        }
    }

    /// Matching unit indexes, sorted and unique, after `keep` filtering. The exact key is
    /// tried before the key without type word, so `Xã Xa Dung` and `Xa Dung` both work.
    fn find(&self, input: &str, keep: impl Fn(usize) -> bool) -> Vec<usize> {
        let attempt = |list: &KeyList, key: &str| -> Vec<usize> {
            let mut hits = Vec::new();
            for k in [key, strip_unit_prefix(key)] {
                hits.extend(list.get(k).filter(|&i| keep(i)));
                if !hits.is_empty() {
                    break;
                }
            }
            hits.sort_unstable();
            hits.dedup();
            hits
        };
        let hits = attempt(&self.toned, &name_key(input));
        if hits.is_empty() && is_unaccented(input) {
            return attempt(&self.folded, &ascii_fold(input));
        }
        hits
    }
}

pub(crate) struct WardNames(NameIndex);
pub(crate) struct ProvinceNames(NameIndex);

impl WardNames {
    pub(crate) fn new(wards: &[Ward]) -> WardNames {
        let names = wards.iter().enumerate().flat_map(|(i, w)| {
            std::iter::once((i, w.name.as_str())).chain(w.name_2025.as_deref().map(|n| (i, n)))
        });
        WardNames(NameIndex::new(names))
    }
}

/// Common short forms that the key rules cannot derive from the official name.
const PROVINCE_ALIASES: &[(&str, &str)] = &[("79", "HCM"), ("79", "TPHCM"), ("79", "Sài Gòn")];

impl ProvinceNames {
    pub(crate) fn new(provinces: &[Province]) -> ProvinceNames {
        let names = provinces.iter().enumerate().flat_map(|(i, p)| {
            let aliases = PROVINCE_ALIASES.iter().filter(move |(c, _)| *c == p.code);
            std::iter::once((i, p.name.as_str()))
                .chain(p.name_2025.as_deref().map(|n| (i, n)))
                .chain(aliases.map(move |(_, a)| (i, *a)))
        });
        ProvinceNames(NameIndex::new(names))
    }
}

/// A ward offered when a name is ambiguous.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WardCandidate {
    pub code: String,
    pub name: String,
    pub province_code: String,
}

impl From<&Ward> for WardCandidate {
    fn from(w: &Ward) -> Self {
        WardCandidate {
            code: w.code.clone(),
            name: w.name.clone(),
            province_code: w.province_code.clone(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum NameMatchError {
    #[error("no ward with that name")]
    NotFound,
    #[error("the name matches {} wards", .0.len())]
    Ambiguous(Vec<WardCandidate>),
}

impl Units {
    /// A province by 2-digit code or by name (`Hà Nội`, `Thành phố Hà Nội`,
    /// `TP Hồ Chí Minh`, `Tỉnh Đồng Nai` (2025 name), or unaccented `ha noi` when unique).
    pub fn find_province(&self, code_or_name: &str) -> Option<&Province> {
        let q = code_or_name.trim();
        if super::codes::is_code(q, 2) {
            return self.province(q);
        }
        match self.province_names.0.find(q, |_| true).as_slice() {
            [one] => self.provinces().get(*one),
            _ => None,
        }
    }

    /// A ward of `province` by name, tolerant of tone-mark placement, case, spacing,
    /// apostrophe variants and the type word; also accepts the 2025 name of renamed units.
    pub fn find_ward_by_name(
        &self,
        province: &Province,
        name: &str,
    ) -> Result<&Ward, NameMatchError> {
        let Some(p) = self.province_position(province) else {
            return Err(NameMatchError::NotFound);
        };
        let range = self.province_wards[p].clone();
        let hits = self.ward_names.0.find(name, |i| range.contains(&i));
        self.single(hits)
    }

    /// Wards of any province matching `name` (same rules as [`Units::find_ward_by_name`]).
    pub fn find_wards_by_name(&self, name: &str) -> Vec<&Ward> {
        let hits = self.ward_names.0.find(name, |_| true);
        hits.into_iter()
            .filter_map(|i| self.wards().get(i))
            .collect()
    }

    fn single(&self, hits: Vec<usize>) -> Result<&Ward, NameMatchError> {
        let wards = self.wards();
        match hits.as_slice() {
            [] => Err(NameMatchError::NotFound),
            [one] => wards.get(*one).ok_or(NameMatchError::NotFound),
            many => Err(NameMatchError::Ambiguous(
                many.iter()
                    .filter_map(|&i| wards.get(i))
                    .map(WardCandidate::from)
                    .collect(),
            )),
        }
    }
}
