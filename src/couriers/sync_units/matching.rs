//! Matching a courier's address list onto the official wards, by name (pure, no I/O).
//!
//! A courier unit's province is found by its name (type word set aside: VTP writes `Hà Nội`,
//! the official name is `Thành phố Hà Nội`); the ward is then looked for in that province
//! only, never across provinces, because the same ward name recurs all over the country.
//! Names compare by [`name_key`], so case and tone-mark placement (`Hòa`/`Hoà`) do not
//! matter. The full name is tried first; only without a hit is the type word set aside
//! (`Thị trấn X` in an old list for today's `Xã X`), and a name that then fits several wards
//! is left unmatched rather than guessed. A ward's 1 July 2025 name counts as well as its
//! current one, as courier lists lag behind renames. Two courier units landing on one ward
//! are both left out: there is no telling which id is right.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use crate::couriers::CourierUnit;
use crate::domain::names::{name_key, strip_unit_prefix};
use crate::units::{Province, Ward};

/// Why a courier unit got no official ward.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unmatched {
    /// Its province name matches no official province.
    Province,
    /// No ward of that name in the province (official code given).
    NoSuchWard { province_code: String },
    /// Without its type word the name fits several wards of the province.
    Ambiguous { ward_codes: Vec<String> },
    /// Another unit of the list matched the same ward.
    SharedWard { ward_code: String },
}

impl std::fmt::Display for Unmatched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unmatched::Province => f.write_str("no official province of that name"),
            Unmatched::NoSuchWard { province_code } => {
                write!(f, "no ward of that name in province {province_code}")
            }
            Unmatched::Ambiguous { ward_codes } => {
                write!(f, "fits several wards: {}", ward_codes.join(", "))
            }
            Unmatched::SharedWard { ward_code } => {
                write!(f, "another unit of the list matched ward {ward_code} too")
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct MatchedUnit {
    pub ward_code: String,
    pub unit: CourierUnit,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UnmatchedUnit {
    pub unit: CourierUnit,
    pub reason: Unmatched,
}

/// An official ward no courier unit matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficialWard {
    pub code: String,
    pub name: String,
    pub province_name: String,
}

#[derive(Debug, Clone, Default)]
pub struct MatchOutcome {
    pub matched: Vec<MatchedUnit>,
    /// In the courier's order.
    pub unmatched_units: Vec<UnmatchedUnit>,
    /// By code.
    pub unmatched_wards: Vec<OfficialWard>,
}

/// Matches every courier unit onto at most one of `wards`, each ward onto at most one unit.
pub fn match_units(
    units: Vec<CourierUnit>,
    provinces: &[Province],
    wards: &[Ward],
) -> MatchOutcome {
    let index = OfficialIndex::new(provinces, wards);
    let mut found: Vec<Result<usize, Unmatched>> =
        units.iter().map(|unit| index.resolve(unit)).collect();
    release_shared_wards(&mut found, wards);
    let mut taken = vec![false; wards.len()];
    let mut outcome = MatchOutcome::default();
    for (unit, result) in units.into_iter().zip(found) {
        match result {
            Ok(ward) => {
                taken[ward] = true;
                outcome.matched.push(MatchedUnit {
                    ward_code: wards[ward].code.clone(),
                    unit,
                });
            }
            Err(reason) => outcome.unmatched_units.push(UnmatchedUnit { unit, reason }),
        }
    }
    let province_name = |code: &str| {
        provinces
            .iter()
            .find(|p| p.code == code)
            .map_or_else(String::new, |p| p.name.clone())
    };
    outcome.unmatched_wards = wards
        .iter()
        .zip(&taken)
        .filter(|(_, taken)| !**taken)
        .map(|(w, _)| OfficialWard {
            code: w.code.clone(),
            name: w.name.clone(),
            province_name: province_name(&w.province_code),
        })
        .collect();
    outcome.unmatched_wards.sort_by(|a, b| a.code.cmp(&b.code));
    outcome
}

/// Turns every match onto a ward that several units matched into [`Unmatched::SharedWard`].
fn release_shared_wards(found: &mut [Result<usize, Unmatched>], wards: &[Ward]) {
    let mut claims: HashMap<usize, usize> = HashMap::new();
    for ward in found.iter().filter_map(|r| r.as_ref().ok()) {
        *claims.entry(*ward).or_default() += 1;
    }
    for result in found.iter_mut() {
        if let Ok(ward) = result
            && claims.get(ward).is_some_and(|&n| n > 1)
        {
            let ward_code = wards[*ward].code.clone();
            *result = Err(Unmatched::SharedWard { ward_code });
        }
    }
}

/// Name keys of the official units, as sorted (hash, ward index) lists rather than maps of
/// strings: a few blocks of memory instead of thousands (the sync runs inside the service,
/// which must stay small). A hash only picks candidates; each is checked by its real key.
struct OfficialIndex<'a> {
    wards: &'a [Ward],
    /// (key without the type word, province code).
    provinces: Vec<(String, &'a str)>,
    /// By hash of (province code, key of a full name).
    full: Vec<(u64, usize)>,
    /// By hash of (province code, key without the type word).
    bare: Vec<(u64, usize)>,
}

/// The current name and, when a later change renamed the unit, the 1 July 2025 one.
fn names<'n>(name: &'n str, name_2025: Option<&'n str>) -> impl Iterator<Item = String> + 'n {
    std::iter::once(name).chain(name_2025).map(name_key)
}

fn hash(province: &str, key: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    (province, key).hash(&mut hasher);
    hasher.finish()
}

/// Ward indexes filed under `hash`.
fn filed(list: &[(u64, usize)], hash: u64) -> impl Iterator<Item = usize> + '_ {
    let start = list.partition_point(|(h, _)| *h < hash);
    list[start..]
        .iter()
        .take_while(move |(h, _)| *h == hash)
        .map(|(_, i)| *i)
}

impl<'a> OfficialIndex<'a> {
    fn new(provinces: &'a [Province], wards: &'a [Ward]) -> Self {
        let provinces = provinces
            .iter()
            .flat_map(|p| {
                names(&p.name, p.name_2025.as_deref())
                    .map(|key| (strip_unit_prefix(&key).to_owned(), p.code.as_str()))
            })
            .collect();
        let mut full = Vec::with_capacity(wards.len() + 16);
        let mut bare = Vec::with_capacity(wards.len() + 16);
        for (i, w) in wards.iter().enumerate() {
            for key in names(&w.name, w.name_2025.as_deref()) {
                full.push((hash(&w.province_code, &key), i));
                bare.push((hash(&w.province_code, strip_unit_prefix(&key)), i));
            }
        }
        full.sort_unstable();
        bare.sort_unstable();
        OfficialIndex {
            wards,
            provinces,
            full,
            bare,
        }
    }

    fn province(&self, name: &str) -> Option<&'a str> {
        let key = name_key(name);
        let key = strip_unit_prefix(&key);
        let mut codes = self
            .provinces
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, code)| *code);
        let first = codes.next()?;
        codes.all(|c| c == first).then_some(first)
    }

    /// Wards of `province` whose (full or bare) key is `key`.
    fn candidates(&self, province: &str, key: &str, bare: bool) -> Vec<usize> {
        let list = if bare { &self.bare } else { &self.full };
        let mut found: Vec<usize> = filed(list, hash(province, key))
            .filter(|&i| {
                let w = &self.wards[i];
                w.province_code == province
                    && names(&w.name, w.name_2025.as_deref()).any(|k| {
                        if bare {
                            strip_unit_prefix(&k) == key
                        } else {
                            k == key
                        }
                    })
            })
            .collect();
        found.sort_unstable();
        found.dedup();
        found
    }

    /// The ward index a courier unit names, or why there is none.
    fn resolve(&self, unit: &CourierUnit) -> Result<usize, Unmatched> {
        let province = self
            .province(&unit.province_name)
            .ok_or(Unmatched::Province)?;
        let key = name_key(&unit.ward_name);
        let mut candidates = self.candidates(province, &key, false);
        if candidates.is_empty() {
            candidates = self.candidates(province, strip_unit_prefix(&key), true);
        }
        match candidates.as_slice() {
            [] => Err(Unmatched::NoSuchWard {
                province_code: province.to_owned(),
            }),
            [ward] => Ok(*ward),
            many => Err(Unmatched::Ambiguous {
                ward_codes: many.iter().map(|&i| self.wards[i].code.clone()).collect(),
            }),
        }
    }
}

#[cfg(test)]
#[path = "matching_tests.rs"]
mod tests;
