//! Loads the official administrative units into the database, in one transaction, and only
//! when the fixture set changed (its fingerprint is recorded in `fixture_loads`).

use diesel::prelude::*;
use diesel::upsert::excluded;

use super::schema::{fixture_loads, legacy_ward_links, provinces, wards};
use super::{DbConnection, StoreError};
use crate::domain::ids::now_utc;
use crate::units::UnitsData;

const FIXTURE_NAME: &str = "admin-units";

#[derive(Insertable)]
#[diesel(table_name = provinces)]
struct ProvinceRow<'a> {
    code: &'a str,
    name: &'a str,
    kind: &'a str,
    centroid_lat: f64,
    centroid_lon: f64,
}

#[derive(Insertable)]
#[diesel(table_name = wards)]
struct WardRow<'a> {
    code: &'a str,
    province_code: &'a str,
    name: &'a str,
    kind: &'a str,
    centroid_lat: f64,
    centroid_lon: f64,
    area_km2: f64,
}

#[derive(Insertable)]
#[diesel(table_name = legacy_ward_links)]
struct LegacyRow<'a> {
    old_ward_code: &'a str,
    old_ward_name: &'a str,
    old_district_code: &'a str,
    old_district_name: &'a str,
    old_province_code: &'a str,
    old_province_name: &'a str,
    new_ward_code: &'a str,
    is_partial: bool,
}

/// What a load did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadOutcome {
    /// The same fixture set was already in the database.
    Unchanged,
    Loaded {
        provinces: usize,
        wards: usize,
        legacy_links: usize,
    },
}

pub fn load(conn: &mut DbConnection, data: &UnitsData) -> Result<LoadOutcome, StoreError> {
    conn.transaction(|conn| {
        let current: Option<String> = fixture_loads::table
            .find(FIXTURE_NAME)
            .select(fixture_loads::fingerprint)
            .first(conn)
            .optional()?;
        if current.as_deref() == Some(data.fingerprint.as_str()) {
            return Ok(LoadOutcome::Unchanged);
        }
        upsert_provinces(conn, data)?;
        upsert_wards(conn, data)?;
        replace_legacy_links(conn, data)?;
        diesel::delete(fixture_loads::table.find(FIXTURE_NAME)).execute(conn)?;
        diesel::insert_into(fixture_loads::table)
            .values((
                fixture_loads::name.eq(FIXTURE_NAME),
                fixture_loads::fingerprint.eq(&data.fingerprint),
                fixture_loads::loaded_at.eq(now_utc()),
            ))
            .execute(conn)?;
        Ok(LoadOutcome::Loaded {
            provinces: data.provinces.len(),
            wards: data.wards.len(),
            legacy_links: data.legacy_links.len(),
        })
    })
}

fn upsert_provinces(conn: &mut DbConnection, data: &UnitsData) -> Result<(), StoreError> {
    let rows: Vec<ProvinceRow> = data
        .provinces
        .iter()
        .map(|p| ProvinceRow {
            code: &p.code,
            name: &p.name,
            kind: p.kind.as_str(),
            centroid_lat: p.lat,
            centroid_lon: p.lon,
        })
        .collect();
    insert_rows!(conn, rows, |values| diesel::insert_into(provinces::table)
        .values(values)
        .on_conflict(provinces::code)
        .do_update()
        .set((
            provinces::name.eq(excluded(provinces::name)),
            provinces::kind.eq(excluded(provinces::kind)),
            provinces::centroid_lat.eq(excluded(provinces::centroid_lat)),
            provinces::centroid_lon.eq(excluded(provinces::centroid_lon)),
        )));
    Ok(())
}

fn upsert_wards(conn: &mut DbConnection, data: &UnitsData) -> Result<(), StoreError> {
    let rows: Vec<WardRow> = data
        .wards
        .iter()
        .map(|w| WardRow {
            code: &w.code,
            province_code: &w.province_code,
            name: &w.name,
            kind: w.kind.as_str(),
            centroid_lat: w.lat,
            centroid_lon: w.lon,
            area_km2: w.area_km2,
        })
        .collect();
    insert_rows!(conn, rows, |values| diesel::insert_into(wards::table)
        .values(values)
        .on_conflict(wards::code)
        .do_update()
        .set((
            wards::province_code.eq(excluded(wards::province_code)),
            wards::name.eq(excluded(wards::name)),
            wards::kind.eq(excluded(wards::kind)),
            wards::centroid_lat.eq(excluded(wards::centroid_lat)),
            wards::centroid_lon.eq(excluded(wards::centroid_lon)),
            wards::area_km2.eq(excluded(wards::area_km2)),
        )));
    Ok(())
}

/// Nothing references the link table, so it is simply replaced.
fn replace_legacy_links(conn: &mut DbConnection, data: &UnitsData) -> Result<(), StoreError> {
    diesel::delete(legacy_ward_links::table).execute(conn)?;
    let rows: Vec<LegacyRow> = data
        .legacy_links
        .iter()
        .map(|l| LegacyRow {
            old_ward_code: l.old_ward_code.as_deref().unwrap_or(""),
            old_ward_name: l.old_ward_name.as_deref().unwrap_or(""),
            old_district_code: &l.old_district_code,
            old_district_name: &l.old_district_name,
            old_province_code: &l.old_province_code,
            old_province_name: &l.old_province_name,
            new_ward_code: &l.new_ward_code,
            is_partial: l.partial,
        })
        .collect();
    insert_rows!(conn, rows, |values| diesel::insert_into(
        legacy_ward_links::table
    )
    .values(values));
    Ok(())
}

/// Row counts of the unit tables, for checks and the CLI.
pub fn counts(conn: &mut DbConnection) -> Result<(i64, i64, i64), StoreError> {
    let p = provinces::table.count().get_result(conn)?;
    let w = wards::table.count().get_result(conn)?;
    let l = legacy_ward_links::table.count().get_result(conn)?;
    Ok((p, w, l))
}
