//! Administrative units after the 1 July 2025 reorganisation: an in-memory index over the
//! fixtures (no database, no async). Build once with [`Units::new`] and share it.
//!
//! Old (pre-2025) and new ward codes share one 5-digit space, so every lookup here names
//! its era: [`Units::ward`] only reads 2025 codes and [`Units::legacy`] only old ones.

pub mod codes;
mod fixtures;
mod fixtures_csv;
mod geo_index;
mod geojson_coords;
mod legacy;
mod lookup;
mod names_index;
mod polygons_txt;
pub mod resolve;

use std::fmt;
use std::ops::Range;

use std::sync::Arc;

use serde::Serialize;

pub use fixtures::{FixtureError, FixtureSource, UnitsData};
pub use geo_index::{LocateError, Located, Precision};
pub use legacy::{LegacyCandidate, LegacyResolution};
pub use lookup::{LookupAnswer, LookupError};
pub use names_index::{NameMatchError, WardCandidate};

use codes::parse_code;
use geo_index::GeoIndex;
use legacy::LegacyIndex;
use names_index::{ProvinceNames, WardNames};

/// `tỉnh` or `thành phố`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ProvinceKind {
    #[serde(rename = "tỉnh")]
    Tinh,
    #[serde(rename = "thành phố")]
    ThanhPho,
}

/// `xã`, `phường` or `đặc khu`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum WardKind {
    #[serde(rename = "xã")]
    Xa,
    #[serde(rename = "phường")]
    Phuong,
    #[serde(rename = "đặc khu")]
    DacKhu,
}

impl ProvinceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProvinceKind::Tinh => "tỉnh",
            ProvinceKind::ThanhPho => "thành phố",
        }
    }

    /// Parses the lower-case type word used in the CSVs.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "tỉnh" => Some(ProvinceKind::Tinh),
            "thành phố" => Some(ProvinceKind::ThanhPho),
            _ => None,
        }
    }
}

impl WardKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WardKind::Xa => "xã",
            WardKind::Phuong => "phường",
            WardKind::DacKhu => "đặc khu",
        }
    }

    /// Parses the lower-case type word used in the CSVs.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "xã" => Some(WardKind::Xa),
            "phường" => Some(WardKind::Phuong),
            "đặc khu" => Some(WardKind::DacKhu),
            _ => None,
        }
    }
}

impl fmt::Display for ProvinceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for WardKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A province-level unit with current name and type (later changes applied).
#[derive(Clone, Debug, Serialize)]
pub struct Province {
    pub code: String,
    pub name: String,
    pub kind: ProvinceKind,
    pub lat: f64,
    pub lon: f64,
    /// Official name on 1 July 2025 when a later change renamed the unit.
    pub name_2025: Option<String>,
}

/// A commune-level unit (2025 code) with current name and type (later changes applied).
#[derive(Clone, Debug, Serialize)]
pub struct Ward {
    pub code: String,
    pub province_code: String,
    pub name: String,
    pub kind: WardKind,
    /// Area-weighted centroid; may lie outside the unit (36 crescent or island units).
    pub lat: f64,
    pub lon: f64,
    pub area_km2: f64,
    /// Official name on 1 July 2025 when a later change renamed the unit.
    pub name_2025: Option<String>,
}

/// One (old ward → new ward) link of the 2025 reorganisation.
#[derive(Clone, Debug, Serialize)]
pub struct LegacyLink {
    /// `None` for the 5 old districts without communes (the whole district is the unit).
    pub old_ward_code: Option<String>,
    pub old_ward_name: Option<String>,
    // District and province texts repeat across ~10,000 links: shared, not copied
    // (it keeps the whole service under its memory target).
    pub old_district_code: Arc<str>,
    pub old_district_name: Arc<str>,
    pub old_province_code: Arc<str>,
    pub old_province_name: Arc<str>,
    pub new_ward_code: String,
    /// Only part of the old ward went into `new_ward_code` (the old ward was split).
    pub partial: bool,
}

/// The boundary of a ward (provinces 01, 31, 44, 48, 79 only), WGS84 lon/lat.
#[derive(Clone, Debug, Serialize)]
pub struct WardPolygon {
    pub ward_code: String,
    /// Serialised as GeoJSON `MultiPolygon` coordinates (geo's serde feature is off).
    /// Single precision: the source is on a 0.00001° grid (about 1 m) and f32 keeps it to
    /// within 0.9 m while halving the memory of 413,000 vertices.
    #[serde(serialize_with = "geojson_coords::serialize")]
    pub shape: geo::MultiPolygon<f32>,
}

/// The in-memory units index. All lookups take `&self` and do not allocate except to
/// normalise names or return lists.
pub struct Units {
    data: UnitsData,
    /// (numeric code, index into `data.wards`), sorted by code.
    ward_by_code: Vec<(u32, u16)>,
    /// Index into `data.provinces` for each ward.
    ward_province: Vec<u8>,
    /// Range of `data.wards` per province (wards are sorted by province, then code).
    province_wards: Vec<Range<usize>>,
    legacy: LegacyIndex,
    ward_names: WardNames,
    province_names: ProvinceNames,
    geo: GeoIndex,
}

impl Units {
    /// Builds all indexes. `data` must come from [`UnitsData::load`], which has validated
    /// codes and references; anything inconsistent is skipped here rather than panicking.
    pub fn new(mut data: UnitsData) -> Units {
        data.provinces.sort_by(|a, b| a.code.cmp(&b.code));
        // `UnitsData` has public fields, so it may not come from `load`: drop wards whose
        // province is unknown instead of panicking on them later.
        let provinces = &data.provinces;
        data.wards.retain(|w| {
            provinces
                .binary_search_by(|p| p.code.cmp(&w.province_code))
                .is_ok()
        });
        data.wards
            .sort_by(|a, b| (&a.province_code, &a.code).cmp(&(&b.province_code, &b.code)));
        let ward_province = data
            .wards
            .iter()
            .map(|w| position_u8(&data.provinces, &w.province_code))
            .collect();
        let mut ward_by_code: Vec<(u32, u16)> = data
            .wards
            .iter()
            .enumerate()
            .filter_map(|(i, w)| Some((parse_code(&w.code, 5)?, u16::try_from(i).ok()?)))
            .collect();
        ward_by_code.sort_unstable();
        let province_wards = province_ranges(&data);
        let legacy = LegacyIndex::new(&mut data.legacy_links);
        let ward_names = WardNames::new(&data.wards);
        let province_names = ProvinceNames::new(&data.provinces);
        let geo = GeoIndex::new(&data.polygons, &ward_by_code, &data.wards);
        data.wards.shrink_to_fit();
        Units {
            data,
            ward_by_code,
            ward_province,
            province_wards,
            legacy,
            ward_names,
            province_names,
            geo,
        }
    }

    pub fn data(&self) -> &UnitsData {
        &self.data
    }
    pub fn provinces(&self) -> &[Province] {
        &self.data.provinces
    }
    pub fn wards(&self) -> &[Ward] {
        &self.data.wards
    }
    /// Sorted by old ward code; district-only rows (no old ward code) come last.
    pub fn legacy_links(&self) -> &[LegacyLink] {
        &self.data.legacy_links
    }
    pub fn polygons(&self) -> &[WardPolygon] {
        &self.data.polygons
    }
    /// SHA-256 (hex) of all fixture texts, to detect whether the database is up to date.
    pub fn fingerprint(&self) -> &str {
        &self.data.fingerprint
    }
    pub fn province_count(&self) -> usize {
        self.data.provinces.len()
    }
    pub fn ward_count(&self) -> usize {
        self.data.wards.len()
    }
    pub fn legacy_link_count(&self) -> usize {
        self.data.legacy_links.len()
    }

    /// A ward by its 2025 code (never an old code).
    pub fn ward(&self, code: &str) -> Option<&Ward> {
        self.ward_index(code).map(|i| &self.data.wards[i])
    }

    fn ward_index(&self, code: &str) -> Option<usize> {
        let n = parse_code(code, 5)?;
        let pos = self.ward_by_code.binary_search_by_key(&n, |e| e.0).ok()?;
        Some(usize::from(self.ward_by_code[pos].1))
    }

    pub fn province(&self, code: &str) -> Option<&Province> {
        let pos = self
            .data
            .provinces
            .binary_search_by(|p| p.code.as_str().cmp(code))
            .ok()?;
        Some(&self.data.provinces[pos])
    }

    pub fn province_of_ward(&self, ward_code: &str) -> Option<&Province> {
        let i = self.ward_index(ward_code)?;
        self.data.provinces.get(usize::from(self.ward_province[i]))
    }

    /// The province a ward (already obtained from this index) belongs to.
    pub(crate) fn province_at(&self, ward_index: usize) -> &Province {
        &self.data.provinces[usize::from(self.ward_province[ward_index])]
    }

    /// Wards of a province, by code; empty for an unknown province.
    pub fn wards_in_province(&self, code: &str) -> impl Iterator<Item = &Ward> + '_ {
        let range = self
            .data
            .provinces
            .binary_search_by(|p| p.code.as_str().cmp(code))
            .ok()
            .and_then(|i| self.province_wards.get(i).cloned())
            .unwrap_or(0..0);
        self.data.wards[range].iter()
    }

    fn province_position(&self, province: &Province) -> Option<usize> {
        self.data
            .provinces
            .binary_search_by(|p| p.code.cmp(&province.code))
            .ok()
    }
}

fn position_u8(provinces: &[Province], code: &str) -> u8 {
    let pos = provinces.binary_search_by(|p| p.code.as_str().cmp(code));
    // Validation guarantees the province exists and there are fewer than 256 of them.
    pos.ok()
        .and_then(|p| u8::try_from(p).ok())
        .unwrap_or(u8::MAX)
}

fn province_ranges(data: &UnitsData) -> Vec<Range<usize>> {
    data.provinces
        .iter()
        .map(|p| {
            let start = data.wards.partition_point(|w| w.province_code < p.code);
            let end = data.wards.partition_point(|w| w.province_code <= p.code);
            start..end
        })
        .collect()
}
