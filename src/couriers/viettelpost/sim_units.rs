//! The simulator's address master data: a few provinces with the official 2025 ward names
//! (fixtures/admin-units/units.csv) but Viettel-style ids of the simulator's own, so nothing
//! can pass by mistaking a GSO code for a VTP id.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

pub struct SimProvince {
    pub id: i64,
    pub code: &'static str,
    pub name: &'static str,
    /// GSO ward code and official name.
    pub wards: &'static [(&'static str, &'static str)],
}

pub const PROVINCES: &[SimProvince] = &[
    SimProvince {
        id: 1,
        code: "HNI",
        name: "Hà Nội",
        wards: &[
            ("00004", "Phường Ba Đình"),
            ("00008", "Phường Ngọc Hà"),
            ("00025", "Phường Giảng Võ"),
            ("00070", "Phường Hoàn Kiếm"),
            ("00082", "Phường Cửa Nam"),
        ],
    },
    SimProvince {
        id: 2,
        code: "HCM",
        name: "Hồ Chí Minh",
        wards: &[
            ("25747", "Phường Thủ Dầu Một"),
            ("25750", "Phường Phú Lợi"),
            ("25760", "Phường Bình Dương"),
        ],
    },
    SimProvince {
        id: 43,
        code: "DNG",
        name: "Đà Nẵng",
        wards: &[
            ("20194", "Phường Hải Vân"),
            ("20197", "Phường Liên Chiểu"),
            ("20200", "Phường Hòa Khánh"),
        ],
    },
];

/// VTP's per-province pseudo-district that selects two-level addressing (couriers.md §1.6).
pub fn pseudo_district(province_id: i64) -> i64 {
    100_000_000 + province_id
}

/// A stable 6-digit id derived from the GSO code (FNV-1a), unlike any GSO code.
pub fn ward_id(gso_code: &str) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in gso_code.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    // Below 900_000, so the cast cannot truncate.
    100_000 + (hash % 900_000) as i64
}

pub fn province(id: i64) -> Option<&'static SimProvince> {
    PROVINCES.iter().find(|p| p.id == id)
}

/// The province holding ward `id`, if any.
pub fn province_of_ward(id: i64) -> Option<&'static SimProvince> {
    PROVINCES
        .iter()
        .find(|p| p.wards.iter().any(|(code, _)| ward_id(code) == id))
}

/// `GET /v3/categories/listProvinceNew` (public, no token).
pub(super) async fn provinces() -> HttpResponse {
    let items: Vec<Value> = PROVINCES
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
    let items: Vec<Value> = province
        .wards
        .iter()
        .map(|(code, name)| {
            json!({"WARDS_ID": ward_id(code), "WARDS_NAME": name,
                "DISTRICT_ID": pseudo_district(province.id), "PROVINCE_ID": province.id})
        })
        .collect();
    super::sim::ok("OK", Value::Array(items))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ward_ids_are_distinct_and_not_gso_codes() {
        let mut seen = std::collections::HashSet::new();
        for province in PROVINCES {
            for (code, _) in province.wards {
                let id = ward_id(code);
                assert!((100_000..1_000_000).contains(&id));
                assert_ne!(id.to_string(), *code);
                assert!(seen.insert(id), "{code}");
                assert_eq!(province_of_ward(id).map(|p| p.id), Some(province.id));
            }
        }
    }
}
