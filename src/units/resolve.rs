//! Turns an address locator (2025 ward code, pre-2025 ward code, names, or coordinates)
//! into one 2025 ward, or into field errors that say exactly what to fix.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::codes::is_code;
use super::{LegacyCandidate, LocateError, NameMatchError, Precision, Province, Units, Ward};
use crate::domain::names::{name_key, strip_unit_prefix};
use crate::domain::validation::{FieldError, join};

/// Where a recipient lives. Give ONE locator: `ward_code`; `legacy_ward_code`;
/// `ward_name` with `province_code` or `province_name`; or `lat` + `lon`. Coordinates may
/// also accompany `legacy_ward_code` to decide between the parts of a split old ward.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressLocator {
    /// 5-digit ward code, 2025 scheme (after 1 July 2025).
    #[schema(example = "00004")]
    pub ward_code: Option<String>,
    /// 5-digit ward code from before 1 July 2025; translated through the official table.
    #[schema(example = "00001")]
    pub legacy_ward_code: Option<String>,
    #[schema(example = "Phường Ba Đình")]
    pub ward_name: Option<String>,
    #[schema(example = "01")]
    pub province_code: Option<String>,
    #[schema(example = "Thành phố Hà Nội")]
    pub province_name: Option<String>,
    #[schema(example = 21.0368)]
    pub lat: Option<f64>,
    #[schema(example = 105.8345)]
    pub lon: Option<f64>,
    /// House, street, hamlet. Used to pick the part of a split old ward it names.
    #[schema(example = "Số 12 ngõ 3 Đội Cấn")]
    pub line: Option<String>,
}

/// How the ward was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResolvedBy {
    WardCode,
    LegacyWardCode,
    WardName,
    Coordinates,
}

#[derive(Debug, Clone)]
pub struct Resolved<'a> {
    pub ward: &'a Ward,
    pub province: &'a Province,
    pub by: ResolvedBy,
    /// Set when the ward is a guess (nearest centroid where no polygons are shipped).
    pub approximate_distance_m: Option<f64>,
    /// The pre-2025 code the caller gave, kept with its scheme.
    pub legacy_ward_code: Option<String>,
}

type Outcome<'a> = Result<Resolved<'a>, Vec<FieldError>>;

fn error(field: String, code: &str, message: impl Into<String>) -> Vec<FieldError> {
    vec![FieldError::new(field, code, message)]
}

/// Resolves `input`; `at` is the JSON path of the locator in the request, for error fields.
pub fn resolve<'a>(units: &'a Units, input: &AddressLocator, at: &str) -> Outcome<'a> {
    let coords_alone =
        (input.lat.is_some() || input.lon.is_some()) && input.legacy_ward_code.is_none();
    let given = [
        input.ward_code.is_some(),
        input.legacy_ward_code.is_some(),
        input.ward_name.is_some(),
        coords_alone,
    ];
    match given.iter().filter(|g| **g).count() {
        0 => Err(error(
            at.to_owned(),
            "missing_locator",
            "give one of ward_code, legacy_ward_code, ward_name with province_code or province_name, or lat and lon",
        )),
        1 => {
            if let Some(code) = &input.ward_code {
                by_ward_code(units, code, input, at)
            } else if let Some(code) = &input.legacy_ward_code {
                by_legacy_code(units, code, input, at)
            } else if let Some(name) = &input.ward_name {
                by_name(units, name, input, at)
            } else {
                by_coordinates(units, input, at)
            }
        }
        _ => Err(error(
            at.to_owned(),
            "conflicting_locators",
            "give only one of ward_code, legacy_ward_code, ward_name or lat/lon, so there is no doubt which one counts",
        )),
    }
}

fn given_province(input: &AddressLocator) -> Option<(&'static str, &str)> {
    input
        .province_code
        .as_deref()
        .map(|c| ("province_code", c))
        .or(input.province_name.as_deref().map(|n| ("province_name", n)))
}

fn by_ward_code<'a>(units: &'a Units, code: &str, input: &AddressLocator, at: &str) -> Outcome<'a> {
    let field = join(at, "ward_code");
    let code = code.trim();
    if !is_code(code, 5) {
        return Err(error(
            field,
            "invalid_format",
            format!("'{code}' is not a 5-digit ward code"),
        ));
    }
    let (Some(ward), Some(province)) = (units.ward(code), units.province_of_ward(code)) else {
        let hint = if units.legacy(code).is_some() {
            "; it is a pre-2025 code: send it as legacy_ward_code"
        } else {
            ""
        };
        return Err(error(
            field,
            "unknown_ward",
            format!("no ward has code {code} in the 2025 scheme{hint}"),
        ));
    };
    check_province_agrees(units, province, input, at)?;
    Ok(Resolved {
        ward,
        province,
        by: ResolvedBy::WardCode,
        approximate_distance_m: None,
        legacy_ward_code: None,
    })
}

/// A province given next to a ward code must be the ward's province: a mismatch means the
/// caller has the wrong ward, and guessing either way would send a parcel astray.
fn check_province_agrees(
    units: &Units,
    province: &Province,
    input: &AddressLocator,
    at: &str,
) -> Result<(), Vec<FieldError>> {
    match given_province(input) {
        Some((field, value))
            if units
                .find_province(value)
                .is_none_or(|p| p.code != province.code) =>
        {
            Err(error(
                join(at, field),
                "province_mismatch",
                format!(
                    "the ward is in {} ({}), not '{value}'",
                    province.name, province.code
                ),
            ))
        }
        _ => Ok(()),
    }
}

fn by_legacy_code<'a>(
    units: &'a Units,
    code: &str,
    input: &AddressLocator,
    at: &str,
) -> Outcome<'a> {
    let field = join(at, "legacy_ward_code");
    let code = code.trim();
    if !is_code(code, 5) {
        return Err(error(
            field,
            "invalid_format",
            format!("'{code}' is not a 5-digit ward code"),
        ));
    }
    let Some(resolution) = units.legacy(code) else {
        return Err(error(
            field,
            "unknown_legacy_ward",
            format!("no ward had code {code} before 1 July 2025"),
        ));
    };
    let chosen = match resolution.candidates.as_slice() {
        [one] => Some(one),
        many => pick_by_coordinates(units, many, input)
            .or_else(|| pick_by_line(many, input.line.as_deref())),
    };
    let Some(chosen) = chosen else {
        let list: Vec<String> = resolution
            .candidates
            .iter()
            .map(|c| format!("{} {}", c.ward.code, c.ward.name))
            .collect();
        return Err(error(
            field,
            "legacy_ward_split",
            format!(
                "old ward {code} ({}) was split between {}; send ward_code with one of them, or lat/lon, or name the new ward in the address line",
                resolution.old_name.unwrap_or("no name"),
                list.join(", ")
            ),
        ));
    };
    check_province_agrees(units, chosen.province, input, at)?;
    Ok(Resolved {
        ward: chosen.ward,
        province: chosen.province,
        by: ResolvedBy::LegacyWardCode,
        approximate_distance_m: None,
        legacy_ward_code: Some(code.to_owned()),
    })
}

fn pick_by_coordinates<'c, 'a>(
    units: &'a Units,
    candidates: &'c [LegacyCandidate<'a>],
    input: &AddressLocator,
) -> Option<&'c LegacyCandidate<'a>> {
    let located = units.locate(input.lat?, input.lon?).ok()?;
    candidates.iter().find(|c| c.ward.code == located.ward.code)
}

/// The candidate whose name (without its type word) appears in the address line as whole
/// words, when exactly one does.
fn pick_by_line<'c, 'a>(
    candidates: &'c [LegacyCandidate<'a>],
    line: Option<&str>,
) -> Option<&'c LegacyCandidate<'a>> {
    let line = format!(" {} ", name_key(line?));
    let mut hits = candidates.iter().filter(|c| {
        let key = name_key(&c.ward.name);
        line.contains(&format!(" {} ", strip_unit_prefix(&key)))
    });
    let first = hits.next()?;
    hits.next().is_none().then_some(first)
}

fn by_name<'a>(units: &'a Units, name: &str, input: &AddressLocator, at: &str) -> Outcome<'a> {
    let Some((province_field, value)) = given_province(input) else {
        return Err(error(
            join(at, "province_code"),
            "required",
            "ward_name needs province_code or province_name: many wards share a name",
        ));
    };
    let Some(province) = units.find_province(value) else {
        return Err(error(
            join(at, province_field),
            "unknown_province",
            format!("no province matches '{value}' (34 provinces since 1 July 2025)"),
        ));
    };
    match units.find_ward_by_name(province, name) {
        Ok(ward) => Ok(Resolved {
            ward,
            province,
            by: ResolvedBy::WardName,
            approximate_distance_m: None,
            legacy_ward_code: None,
        }),
        Err(NameMatchError::NotFound) => Err(error(
            join(at, "ward_name"),
            "unknown_ward_name",
            format!(
                "no ward named '{name}' in {}; for a pre-2025 ward send legacy_ward_code instead",
                province.name
            ),
        )),
        Err(NameMatchError::Ambiguous(candidates)) => {
            let list: Vec<String> = candidates
                .iter()
                .map(|c| format!("{} {}", c.code, c.name))
                .collect();
            Err(error(
                join(at, "ward_name"),
                "ambiguous_ward_name",
                format!("'{name}' matches {}; send ward_code", list.join(", ")),
            ))
        }
    }
}

fn by_coordinates<'a>(units: &'a Units, input: &AddressLocator, at: &str) -> Outcome<'a> {
    let (Some(lat), Some(lon)) = (input.lat, input.lon) else {
        let missing = if input.lat.is_none() { "lat" } else { "lon" };
        return Err(error(
            join(at, missing),
            "required",
            "coordinates need both lat and lon",
        ));
    };
    match units.locate(lat, lon) {
        Ok(located) => {
            let approximate_distance_m = match located.precision {
                Precision::NearestCentroid { distance_m } => Some(distance_m),
                Precision::Polygon | Precision::NearPolygon { .. } => None,
            };
            check_province_agrees(units, located.province, input, at)?;
            Ok(Resolved {
                ward: located.ward,
                province: located.province,
                by: ResolvedBy::Coordinates,
                approximate_distance_m,
                legacy_ward_code: None,
            })
        }
        Err(LocateError::InvalidCoordinates { which, value }) => {
            let field = if which.starts_with("lat") {
                "lat"
            } else {
                "lon"
            };
            Err(error(
                join(at, field),
                "invalid_coordinates",
                format!("{value} is not a valid {which} (WGS84 degrees)"),
            ))
        }
        Err(e @ LocateError::OutsideVietnam { .. }) => {
            Err(error(join(at, "lat"), "outside_vietnam", e.to_string()))
        }
    }
}
