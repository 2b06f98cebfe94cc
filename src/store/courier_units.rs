//! Official ward code → the courier's own address ids (filled by `civicpost couriers
//! sync-units`).

use diesel::prelude::*;

use super::schema::courier_unit_mappings;
use super::{DbConnection, StoreError};
use crate::domain::courier::Courier;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = courier_unit_mappings)]
pub struct CourierUnitMapping {
    pub courier: String,
    pub ward_code: String,
    pub courier_province_id: String,
    pub courier_district_id: Option<String>,
    pub courier_ward_id: String,
    pub courier_ward_name: String,
}

pub fn find(
    conn: &mut DbConnection,
    courier: Courier,
    ward_code: &str,
) -> Result<Option<CourierUnitMapping>, StoreError> {
    Ok(courier_unit_mappings::table
        .find((courier.as_str(), ward_code))
        .select(CourierUnitMapping::as_select())
        .first(conn)
        .optional()?)
}
