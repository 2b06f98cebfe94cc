//! Parsing and validation of the CSV fixtures. Columns are found by header name, so
//! column order may change between data releases without breaking the loader.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use csv::StringRecord;

use super::codes::parse_code;
use super::fixtures::{FixtureError, LATER, MAPPING, PROVINCES, UNITS};
use super::{LegacyLink, Province, ProvinceKind, Ward, WardKind};
use crate::domain::names::name_key;

/// One data row with its file and line, for error messages.
struct Row<'r> {
    file: &'static str,
    line: u64,
    rec: &'r StringRecord,
    cols: &'r [usize],
}

impl Row<'_> {
    fn get(&self, i: usize) -> &str {
        self.cols
            .get(i)
            .and_then(|&c| self.rec.get(c))
            .unwrap_or("")
    }

    fn err(&self, reason: impl Into<String>) -> FixtureError {
        FixtureError::line(self.file, self.line, reason)
    }

    fn code(&self, i: usize, what: &str, len: usize) -> Result<String, FixtureError> {
        let s = self.get(i);
        match parse_code(s, len) {
            Some(_) => Ok(s.to_owned()),
            None => Err(self.err(format!("{what} {s:?} is not {len} digits"))),
        }
    }

    fn text(&self, i: usize, what: &str) -> Result<String, FixtureError> {
        let s = self.get(i).trim();
        if s.is_empty() {
            return Err(self.err(format!("{what} is empty")));
        }
        Ok(s.to_owned())
    }

    fn number(&self, i: usize, what: &str, min: f64, max: f64) -> Result<f64, FixtureError> {
        let s = self.get(i);
        match s.trim().parse::<f64>() {
            Ok(v) if v.is_finite() && (min..=max).contains(&v) => Ok(v),
            Ok(_) => Err(self.err(format!("{what} {s:?} is outside {min}..{max}"))),
            Err(_) => Err(self.err(format!("{what} {s:?} is not a number"))),
        }
    }
}

/// Parses `text` as CSV with the given required columns and calls `f` for each row.
fn for_each_row(
    file: &'static str,
    text: &str,
    columns: &[&str],
    mut f: impl FnMut(&Row) -> Result<(), FixtureError>,
) -> Result<usize, FixtureError> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| csv_error(file, &e))?.clone();
    let cols = columns
        .iter()
        .map(|name| {
            headers
                .iter()
                .position(|h| h.trim() == *name)
                .ok_or_else(|| FixtureError::File {
                    file,
                    reason: format!("missing column {name:?}"),
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut rec = StringRecord::new();
    let mut count = 0;
    while reader
        .read_record(&mut rec)
        .map_err(|e| csv_error(file, &e))?
    {
        let line = rec.position().map_or(0, |p| p.line());
        f(&Row {
            file,
            line,
            rec: &rec,
            cols: &cols,
        })?;
        count += 1;
    }
    if count == 0 {
        return Err(FixtureError::File {
            file,
            reason: "no data rows".into(),
        });
    }
    Ok(count)
}

fn csv_error(file: &'static str, e: &csv::Error) -> FixtureError {
    let line = e.position().map_or(0, |p| p.line());
    FixtureError::line(file, line, format!("malformed CSV: {e}"))
}

const LAT: (f64, f64) = (-90.0, 90.0);
const LON: (f64, f64) = (-180.0, 180.0);

pub(crate) fn parse_provinces(text: &str) -> Result<Vec<Province>, FixtureError> {
    let cols = [
        "province_code",
        "province_name",
        "province_type",
        "centroid_lat",
        "centroid_lon",
    ];
    let mut out: Vec<Province> = Vec::with_capacity(40);
    let mut seen = HashSet::new();
    for_each_row(PROVINCES, text, &cols, |r| {
        let code = r.code(0, "province_code", 2)?;
        if !seen.insert(code.clone()) {
            return Err(r.err(format!("duplicate province_code {code:?}")));
        }
        let kind = ProvinceKind::parse(r.get(2))
            .ok_or_else(|| r.err(format!("unknown province_type {:?}", r.get(2))))?;
        out.push(Province {
            code,
            name: r.text(1, "province_name")?,
            kind,
            lat: r.number(3, "centroid_lat", LAT.0, LAT.1)?,
            lon: r.number(4, "centroid_lon", LON.0, LON.1)?,
            name_2025: None,
        });
        Ok(())
    })?;
    Ok(out)
}

pub(crate) fn parse_units(text: &str, provinces: &[Province]) -> Result<Vec<Ward>, FixtureError> {
    let cols = [
        "province_code",
        "province_name",
        "ward_code",
        "ward_name",
        "ward_type",
        "centroid_lat",
        "centroid_lon",
        "area_km2",
    ];
    let names: HashMap<&str, &str> = provinces
        .iter()
        .map(|p| (p.code.as_str(), p.name.as_str()))
        .collect();
    let mut out: Vec<Ward> = Vec::with_capacity(3400);
    let mut seen = HashSet::new();
    for_each_row(UNITS, text, &cols, |r| {
        let ward = parse_ward(r, &names)?;
        if !seen.insert(ward.code.clone()) {
            return Err(r.err(format!("duplicate ward_code {:?}", ward.code)));
        }
        out.push(ward);
        Ok(())
    })?;
    Ok(out)
}

fn parse_ward(r: &Row, province_names: &HashMap<&str, &str>) -> Result<Ward, FixtureError> {
    let province_code = r.code(0, "province_code", 2)?;
    match province_names.get(province_code.as_str()) {
        None => {
            return Err(r.err(format!(
                "province_code {province_code:?} is not in provinces.csv"
            )));
        }
        Some(name) if *name != r.get(1) => {
            return Err(r.err(format!(
                "province_name {:?} differs from provinces.csv {name:?}",
                r.get(1)
            )));
        }
        Some(_) => {}
    }
    let code = r.code(2, "ward_code", 5)?;
    let name = r.text(3, "ward_name")?;
    let kind = WardKind::parse(r.get(4))
        .ok_or_else(|| r.err(format!("unknown ward_type {:?}", r.get(4))))?;
    check_name_matches_kind(&name, kind.as_str()).map_err(|m| r.err(m))?;
    Ok(Ward {
        code,
        province_code,
        name,
        kind,
        lat: r.number(5, "centroid_lat", LAT.0, LAT.1)?,
        lon: r.number(6, "centroid_lon", LON.0, LON.1)?,
        area_km2: r.number(7, "area_km2", 0.0, 1.0e6)?,
        name_2025: None,
    })
}

/// Official names start with their type word (`Xã …`); a mismatch means shifted columns.
fn check_name_matches_kind(name: &str, kind: &str) -> Result<(), String> {
    let prefix = name_key(kind) + " ";
    if name_key(name).starts_with(&prefix) {
        Ok(())
    } else {
        Err(format!(
            "name {name:?} does not start with its type {kind:?}"
        ))
    }
}

pub(crate) fn apply_later_changes(
    text: &str,
    provinces: &mut [Province],
    wards: &mut [Ward],
) -> Result<(), FixtureError> {
    let cols = [
        "level",
        "code",
        "field",
        "value_2025_07_01",
        "value_current",
    ];
    for_each_row(LATER, text, &cols, |r| match r.get(0) {
        "province" => {
            let code = r.code(1, "code", 2)?;
            let p = provinces
                .iter_mut()
                .find(|p| p.code == code)
                .ok_or_else(|| r.err(format!("province {code:?} is not in provinces.csv")))?;
            match r.get(2) {
                "name" => rename(r, &mut p.name, &mut p.name_2025),
                "type" => retype(r, &mut p.kind, ProvinceKind::parse, ProvinceKind::as_str),
                other => Err(r.err(format!("unknown field {other:?}"))),
            }
        }
        "ward" => {
            let code = r.code(1, "code", 5)?;
            let w = wards
                .iter_mut()
                .find(|w| w.code == code)
                .ok_or_else(|| r.err(format!("ward {code:?} is not in units.csv")))?;
            match r.get(2) {
                "name" => rename(r, &mut w.name, &mut w.name_2025),
                "type" => retype(r, &mut w.kind, WardKind::parse, WardKind::as_str),
                other => Err(r.err(format!("unknown field {other:?}"))),
            }
        }
        other => Err(r.err(format!("unknown level {other:?}"))),
    })?;
    Ok(())
}

/// The old value must match what we hold, or the change was made against other data.
fn rename(r: &Row, name: &mut String, name_2025: &mut Option<String>) -> Result<(), FixtureError> {
    if r.get(3) != name {
        return Err(r.err(format!(
            "value_2025_07_01 {:?} differs from current name {name:?}",
            r.get(3)
        )));
    }
    let new = r.text(4, "value_current")?;
    let old = std::mem::replace(name, new);
    name_2025.get_or_insert(old);
    Ok(())
}

fn retype<K: PartialEq + Copy>(
    r: &Row,
    kind: &mut K,
    parse: fn(&str) -> Option<K>,
    show: fn(K) -> &'static str,
) -> Result<(), FixtureError> {
    if parse(r.get(3)) != Some(*kind) {
        return Err(r.err(format!(
            "value_2025_07_01 {:?} differs from current type {:?}",
            r.get(3),
            show(*kind)
        )));
    }
    *kind = parse(r.get(4)).ok_or_else(|| r.err(format!("unknown type {:?}", r.get(4))))?;
    Ok(())
}

pub(crate) fn parse_mapping(text: &str, wards: &[Ward]) -> Result<Vec<LegacyLink>, FixtureError> {
    let cols = [
        "old_ward_code",
        "old_ward_name",
        "old_district_code",
        "old_district_name",
        "old_province_code",
        "old_province_name",
        "new_ward_code",
        "new_province_code",
        "partial",
    ];
    let ward_province: HashMap<&str, &str> = wards
        .iter()
        .map(|w| (w.code.as_str(), w.province_code.as_str()))
        .collect();
    let mut out: Vec<LegacyLink> = Vec::with_capacity(10_600);
    let mut pairs = HashSet::new();
    let mut lines: Vec<u64> = Vec::with_capacity(10_600);
    let mut shared: HashSet<Arc<str>> = HashSet::new();
    for_each_row(MAPPING, text, &cols, |r| {
        let link = parse_link(r, &ward_province, &mut shared)?;
        let key = (
            link.old_ward_code.clone(),
            link.old_district_code.clone(),
            link.new_ward_code.clone(),
        );
        if !pairs.insert(key) {
            return Err(r.err("duplicate link (same old unit and new ward)"));
        }
        out.push(link);
        lines.push(r.line);
        Ok(())
    })?;
    check_partial_flags(&out, &lines)?;
    Ok(out)
}

/// One copy of each repeated text.
fn intern(shared: &mut HashSet<Arc<str>>, text: String) -> Arc<str> {
    if let Some(existing) = shared.get(text.as_str()) {
        return existing.clone();
    }
    let new: Arc<str> = text.into();
    shared.insert(new.clone());
    new
}

fn parse_link(
    r: &Row,
    ward_province: &HashMap<&str, &str>,
    shared: &mut HashSet<Arc<str>>,
) -> Result<LegacyLink, FixtureError> {
    let (old_ward_code, old_ward_name) = if r.get(0).is_empty() {
        if !r.get(1).is_empty() {
            return Err(r.err("old_ward_name given without old_ward_code"));
        }
        (None, None)
    } else {
        (
            Some(r.code(0, "old_ward_code", 5)?),
            Some(r.text(1, "old_ward_name")?),
        )
    };
    let new_ward_code = r.code(6, "new_ward_code", 5)?;
    let new_province = r.code(7, "new_province_code", 2)?;
    match ward_province.get(new_ward_code.as_str()) {
        None => {
            return Err(r.err(format!(
                "new_ward_code {new_ward_code:?} is not in units.csv"
            )));
        }
        Some(p) if *p != new_province => {
            return Err(r.err(format!(
                "new_province_code {new_province:?} but units.csv says {p:?}"
            )));
        }
        Some(_) => {}
    }
    let partial = match r.get(8) {
        "0" => false,
        "1" => true,
        other => return Err(r.err(format!("partial {other:?} is not 0 or 1"))),
    };
    Ok(LegacyLink {
        old_ward_code,
        old_ward_name,
        old_district_code: intern(shared, r.code(2, "old_district_code", 3)?),
        old_district_name: intern(shared, r.text(3, "old_district_name")?),
        old_province_code: intern(shared, r.code(4, "old_province_code", 2)?),
        old_province_name: intern(shared, r.text(5, "old_province_name")?),
        new_ward_code,
        partial,
    })
}

/// A link is partial exactly when its old ward has several links; otherwise the flag
/// (which callers show to citizens) cannot be trusted.
fn check_partial_flags(links: &[LegacyLink], lines: &[u64]) -> Result<(), FixtureError> {
    let mut per_old: HashMap<&str, usize> = HashMap::new();
    for code in links.iter().filter_map(|l| l.old_ward_code.as_deref()) {
        *per_old.entry(code).or_default() += 1;
    }
    for (link, &line) in links.iter().zip(lines) {
        let n = link
            .old_ward_code
            .as_deref()
            .and_then(|c| per_old.get(c))
            .copied()
            .unwrap_or(1);
        if link.partial != (n > 1) {
            let reason = format!(
                "partial={} but the old unit has {n} link(s)",
                u8::from(link.partial)
            );
            return Err(FixtureError::line(MAPPING, line, reason));
        }
    }
    Ok(())
}
