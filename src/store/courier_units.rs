//! Official ward code → the courier's own address ids (`courier_unit_mappings`), filled by
//! the unit sync (`couriers::sync_units`) and read by dispatch for every order.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::courier_unit_mappings as m;
use super::{DbConnection, StoreError};
use crate::domain::courier::Courier;
use crate::domain::ids::now_utc;

/// One official ward as a courier knows it.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = m)]
pub struct CourierUnitMapping {
    /// [`Courier::as_str`].
    pub courier: String,
    /// Official 2025 ward code.
    pub ward_code: String,
    pub courier_province_id: String,
    /// Viettel Post's pseudo-district of two-level addresses; VNPost has none.
    pub courier_district_id: Option<String>,
    pub courier_ward_id: String,
    /// The name the courier lists, for operators comparing both sides.
    pub courier_ward_name: String,
}

#[derive(Insertable)]
#[diesel(table_name = m)]
struct MappingRow<'a> {
    courier: &'a str,
    ward_code: &'a str,
    courier_province_id: &'a str,
    courier_district_id: Option<&'a str>,
    courier_ward_id: &'a str,
    courier_ward_name: &'a str,
    matched_at: NaiveDateTime,
}

/// The courier's ids for an official ward, if the last sync matched it.
pub fn find(
    conn: &mut DbConnection,
    courier: Courier,
    ward_code: &str,
) -> Result<Option<CourierUnitMapping>, StoreError> {
    Ok(m::table
        .find((courier.as_str(), ward_code))
        .select(CourierUnitMapping::as_select())
        .first(conn)
        .optional()?)
}

/// Replaces every mapping of `courier` with `mappings`, in one transaction: readers see
/// the old set or the new one, never a mix. The `courier` field of each mapping is ignored.
/// A bulk write: best run on a connection of its own ([`crate::store::Db::run_detached`]).
pub fn replace_all(
    conn: &mut DbConnection,
    courier: Courier,
    mappings: &[CourierUnitMapping],
) -> Result<usize, StoreError> {
    let now = now_utc();
    let rows: Vec<MappingRow> = mappings
        .iter()
        .map(|r| MappingRow {
            courier: courier.as_str(),
            ward_code: &r.ward_code,
            courier_province_id: &r.courier_province_id,
            courier_district_id: r.courier_district_id.as_deref(),
            courier_ward_id: &r.courier_ward_id,
            courier_ward_name: &r.courier_ward_name,
            matched_at: now,
        })
        .collect();
    conn.transaction(|conn| {
        // Two syncs at once (a first `serve` and `civicpost couriers sync-units`) would each
        // delete nothing the other has not committed, then collide on insert: on PostgreSQL
        // the second waits for the first here and then replaces its rows. SQLite already
        // lets one writer at a time through.
        if let DbConnection::Postgresql(c) = conn {
            diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext($1))")
                .bind::<diesel::sql_types::Text, _>(format!("courier_units:{}", courier.as_str()))
                .execute(c)?;
        }
        diesel::delete(m::table.filter(m::courier.eq(courier.as_str()))).execute(conn)?;
        insert_rows!(conn, rows, |values| diesel::insert_into(m::table)
            .values(values));
        Ok(rows.len())
    })
}

/// How many official wards the courier has ids for.
pub fn count(conn: &mut DbConnection, courier: Courier) -> Result<i64, StoreError> {
    Ok(m::table
        .filter(m::courier.eq(courier.as_str()))
        .count()
        .get_result(conn)?)
}
