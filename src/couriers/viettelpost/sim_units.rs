//! The simulator's address master data: every province and ward of the official 2025 map,
//! as Viettel Post lists them (couriers.md §1.6): VTP's own integer ids (never GSO codes),
//! province names without their type word (`Hà Nội`), ward names in capitals with it
//! (`PHƯỜNG BA ĐÌNH`), each ward under its province's pseudo-district. Built once, at first
//! use, from the embedded units.
//!
//! Like a real courier list it differs from the official map in a few deliberate places
//! ([`RESPELLED`], [`MISSING`], [`EXTRA`]), so the unit sync's "did not match" report has
//! something to show.

use std::ops::Range;
use std::sync::OnceLock;

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::couriers::sim_official::{Names, official_lists, wards_of, without_type};
use crate::units::Ward;

/// VTP's province id and code for each 2025 province, by GSO code: the ids of VTP's
/// pre-2025 list for the province whose name the new one kept (Hà Nội 1, HCMC 2, Bắc Ninh 11,
/// Lạng Sơn 22, as couriers.md §1.6 and public integrations show them).
const PROVINCE_IDS: [(&str, i64, &str); 34] = [
    ("01", 1, "HNI"),
    ("04", 19, "CBG"),
    ("08", 23, "TQG"),
    ("11", 64, "DBN"),
    ("12", 29, "LCU"),
    ("14", 30, "SLA"),
    ("15", 20, "LCI"),
    ("19", 25, "TNN"),
    ("20", 22, "LSN"),
    ("22", 28, "QNH"),
    ("24", 11, "BNH"),
    ("25", 26, "PHO"),
    ("31", 3, "HPG"),
    ("33", 13, "HYN"),
    ("37", 17, "NBH"),
    ("38", 32, "THA"),
    ("40", 33, "NAN"),
    ("42", 34, "HTH"),
    ("44", 36, "QTI"),
    ("46", 37, "HUE"),
    ("48", 4, "DNG"),
    ("51", 39, "QNI"),
    ("52", 44, "GLI"),
    ("56", 42, "KHA"),
    ("66", 45, "DLK"),
    ("68", 46, "LDG"),
    ("75", 51, "DNI"),
    ("79", 2, "HCM"),
    ("80", 49, "TNH"),
    ("82", 55, "DTP"),
    ("86", 57, "VLG"),
    ("91", 56, "AGG"),
    ("92", 5, "CTO"),
    ("96", 63, "CMU"),
];

/// Quirk: listed under an older spelling (`Đắk` for the official `Đăk`): GSO code, VTP name.
const RESPELLED: (&str, &str) = ("23500", "XÃ ĐẮK HÀ");
/// Quirk: not listed (VTP does not deliver to Đặc khu Hoàng Sa, Đà Nẵng).
const MISSING: &str = "20333";
/// Quirk: still listed though abolished on 1 July 2025 (merged into Phường Hồng Hà):
/// province GSO code, the old ward's GSO code (for its id), VTP name.
const EXTRA: (&str, &str, &str) = ("01", "00001", "PHƯỜNG PHÚC XÁ");

pub struct SimProvince {
    pub id: i64,
    pub code: &'static str,
    pub name: String,
    /// Its wards' range in `SimUnits::wards`.
    wards: Range<usize>,
}

struct SimWard {
    id: i64,
    /// Index in `SimUnits::names`.
    name: u32,
}

/// The whole list, in a few large blocks (see [`Names`]).
pub struct SimUnits {
    pub provinces: Vec<SimProvince>,
    /// Province by province.
    wards: Vec<SimWard>,
    names: Names,
    /// (ward id, province id), sorted by ward id, for the checks on every order.
    ward_province: Vec<(i64, i64)>,
}

impl SimUnits {
    /// A province's wards as (VTP id, VTP name).
    pub fn wards<'a>(&'a self, province: &SimProvince) -> impl Iterator<Item = (i64, &'a str)> {
        self.wards
            .get(province.wards.clone())
            .unwrap_or_default()
            .iter()
            .map(|w| (w.id, self.names.get(w.name)))
    }

    /// VTP's wards of one province, with the quirks.
    fn add_wards(&mut self, gso_province: &str, wards: &[Ward]) {
        for w in wards.iter().filter(|w| w.code != MISSING) {
            let Some(id) = ward_id(&w.code) else { continue };
            let name = if w.code == RESPELLED.0 {
                self.names.push(RESPELLED.1)
            } else {
                self.names.push(&w.name.to_uppercase())
            };
            self.wards.push(SimWard { id, name });
        }
        if gso_province == EXTRA.0
            && let Some(id) = ward_id(EXTRA.1)
        {
            let name = self.names.push(EXTRA.2);
            self.wards.push(SimWard { id, name });
        }
    }
}

static UNITS: OnceLock<SimUnits> = OnceLock::new();

/// The whole list, built at first use.
pub fn units() -> &'static SimUnits {
    UNITS.get_or_init(build)
}

fn build() -> SimUnits {
    let (official, official_wards) = official_lists();
    let bytes = official_wards.iter().map(|w| w.name.len()).sum::<usize>();
    let mut units = SimUnits {
        provinces: Vec::with_capacity(official.len()),
        wards: Vec::with_capacity(official_wards.len() + 1),
        // Capitals take a few more bytes than the official spelling.
        names: Names::with_capacity(official_wards.len() + 1, bytes + bytes / 8),
        ward_province: Vec::new(),
    };
    for p in &official {
        let Some(&(_, id, code)) = PROVINCE_IDS.iter().find(|(gso, ..)| *gso == p.code) else {
            continue;
        };
        let start = units.wards.len();
        units.add_wards(&p.code, wards_of(&official_wards, &p.code));
        units.provinces.push(SimProvince {
            id,
            code,
            name: without_type(&p.name).to_owned(),
            wards: start..units.wards.len(),
        });
    }
    units.names.shrink_to_fit();
    let mut ward_province: Vec<(i64, i64)> = units
        .provinces
        .iter()
        .flat_map(|p| units.wards(p).map(|(ward, _)| (ward, p.id)))
        .collect();
    ward_province.sort_unstable();
    units.ward_province = ward_province;
    units
}

/// VTP's per-province pseudo-district that selects two-level addressing (couriers.md §1.6).
pub fn pseudo_district(province_id: i64) -> i64 {
    100_000_000 + province_id
}

/// A stable 6-digit id for a 5-digit GSO code, unlike any GSO code. Multiplying by a number
/// prime to 900,000 permutes 0..900,000, so distinct codes never share an id.
pub fn ward_id(gso_code: &str) -> Option<i64> {
    let n: i64 = crate::units::codes::parse_code(gso_code, 5)?.into();
    Some(100_000 + (n * 7_919 + 40_503) % 900_000)
}

pub fn province(id: i64) -> Option<&'static SimProvince> {
    units().provinces.iter().find(|p| p.id == id)
}

/// The id of the province holding ward `id`, if VTP lists that ward.
pub fn province_of_ward(id: i64) -> Option<i64> {
    let list = &units().ward_province;
    let at = list.binary_search_by_key(&id, |(ward, _)| *ward).ok()?;
    Some(list[at].1)
}

/// `GET /v3/categories/listProvinceNew` (public, no token).
pub(super) async fn provinces() -> HttpResponse {
    let items: Vec<Value> = units()
        .provinces
        .iter()
        .map(|p| json!({"PROVINCE_ID": p.id, "PROVINCE_CODE": p.code, "PROVINCE_NAME": p.name}))
        .collect();
    super::sim::ok("OK", Value::Array(items))
}

#[derive(Deserialize)]
pub(super) struct WardsQuery {
    #[serde(rename = "provinceId")]
    province_id: i64,
}

/// `GET /v3/categories/listWardsNew?provinceId=` (public, no token).
pub(super) async fn wards(query: web::Query<WardsQuery>) -> HttpResponse {
    let Some(province) = province(query.province_id) else {
        return super::sim::ok("OK", Value::Array(Vec::new()));
    };
    let items: Vec<Value> = units()
        .wards(province)
        .map(|(id, name)| {
            json!({"WARDS_ID": id, "WARDS_NAME": name,
                "DISTRICT_ID": pseudo_district(province.id), "PROVINCE_ID": province.id})
        })
        .collect();
    super::sim::ok("OK", Value::Array(items))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_the_whole_map_with_vtp_ids() {
        let units = units();
        assert_eq!(units.provinces.len(), 34);
        let listed: usize = units.provinces.iter().map(|p| units.wards(p).count()).sum();
        // 3,321 official wards, one missing, one extra.
        assert_eq!(listed, 3_321);
        let mut seen = std::collections::HashSet::new();
        for province in &units.provinces {
            for (id, name) in units.wards(province) {
                assert!((100_000..1_000_000).contains(&id));
                assert!(seen.insert(id), "{name}");
                assert_eq!(province_of_ward(id), Some(province.id));
                assert_eq!(name, name.to_uppercase());
            }
        }
        let hanoi = province(1).unwrap();
        assert_eq!((hanoi.code, hanoi.name.as_str()), ("HNI", "Hà Nội"));
        assert_eq!(province(2).unwrap().name, "Hồ Chí Minh");
        assert_ne!(ward_id("00004"), Some(4));
    }

    #[test]
    fn quirks_are_in_place() {
        let units = units();
        let names: Vec<&str> = units
            .provinces
            .iter()
            .flat_map(|p| units.wards(p).map(|(_, name)| name))
            .collect();
        assert!(names.contains(&"XÃ ĐẮK HÀ") && !names.contains(&"XÃ ĐĂK HÀ"));
        assert!(!names.contains(&"ĐẶC KHU HOÀNG SA"));
        assert!(
            units
                .wards(province(1).unwrap())
                .any(|(_, name)| name == EXTRA.2)
        );
        assert!(province_of_ward(ward_id(MISSING).unwrap()).is_none());
    }
}
