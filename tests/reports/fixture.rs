//! A small hand-computed data set for the report tests: two agencies, eight deliveries
//! around the period 2026-11-01 … 2026-11-03 (Asia/Ho_Chi_Minh), their failed attempts and
//! returns, and the agencies' reported totals. The expected figures are worked out in
//! tests/reports.rs next to each assertion.

#![allow(dead_code)]

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};
use civicpost::domain::ids::new_id;
use civicpost::store::agencies::{self, NewAgency};
use civicpost::store::deliveries::{DeliveryRow, EventRow};
use civicpost::store::schema::{deliveries, delivery_events};
use civicpost::store::{DbConnection, StoreError, reports};
use diesel::prelude::*;

use crate::common::TestApp;

pub const BA_DINH: &str = "00004"; // Hà Nội (01)
pub const NGOC_HA: &str = "00008"; // Hà Nội (01)
pub const THU_DAU_MOT: &str = "25747"; // TP Hồ Chí Minh (79)

/// Local (UTC+7) date and time → the UTC the store keeps.
fn local(day: u32, month: u32, hour: u32, minute: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, month, day)
        .and_then(|d| d.and_hms_opt(hour, minute, 0))
        .expect("time")
        - TimeDelta::hours(7)
}

struct Seed {
    agency_id: String,
    courier: &'static str,
    ward: &'static str,
    province: &'static str,
    created: NaiveDateTime,
    state: &'static str,
    sla_hours: i32,
    delivered_hours: Option<i64>,
}

fn row(n: usize, s: &Seed) -> DeliveryRow {
    DeliveryRow {
        id: new_id(),
        agency_id: s.agency_id.clone(),
        dossier_code: format!("H-{n:03}"),
        tracking_code: format!("TESTREPORT{n:03}"),
        state: s.state.into(),
        state_reason: None,
        procedure_code: None,
        procedure_name: None,
        agency_office: None,
        recipient_name: "Nguyễn Văn An".into(),
        recipient_phone: "0912345678".into(),
        recipient_email: None,
        address_line: "1 Phố Huế".into(),
        ward_code: s.ward.into(),
        province_code: s.province.into(),
        legacy_ward_code: None,
        latitude: None,
        longitude: None,
        weight_grams: 200,
        document_count: None,
        declared_value_vnd: None,
        postage_paid_by: "agency".into(),
        collect_on_delivery_vnd: 0,
        courier: s.courier.into(),
        service_code: "X".into(),
        sla_hours: s.sla_hours,
        fallback_courier: None,
        routing_rule_id: None,
        courier_tracking_number: None,
        notes: None,
        notify_sms: false,
        notify_email: false,
        request_fingerprint: format!("f{n}"),
        request_fields: "{}".into(),
        created_at: s.created,
        updated_at: s.created,
        last_event_at: None,
        ended_at: None,
        anonymised_at: None,
    }
}

fn insert(conn: &mut DbConnection, n: usize, s: &Seed) -> Result<String, StoreError> {
    let r = row(n, s);
    let id = r.id.clone();
    diesel::insert_into(deliveries::table)
        .values(&r)
        .execute(conn)?;
    let terminal = matches!(s.state, "delivered" | "returned" | "cancelled" | "lost");
    let ended = s
        .delivered_hours
        .map(|h| s.created + TimeDelta::hours(h))
        .or(terminal.then(|| s.created + TimeDelta::hours(100)));
    diesel::update(deliveries::table.find(&id))
        .set((
            deliveries::ended_at.eq(ended),
            deliveries::delivered_seconds.eq(s.delivered_hours.map(|h| h * 3600)),
        ))
        .execute(conn)?;
    Ok(id)
}

fn event(
    conn: &mut DbConnection,
    delivery: &str,
    state: &str,
    reason: &str,
    at: NaiveDateTime,
) -> Result<(), StoreError> {
    let mut e = EventRow::ours(
        delivery,
        civicpost::domain::state::DeliveryState::parse(state).expect("state"),
        Some(reason),
        "courier",
        at,
    );
    e.id = new_id();
    diesel::insert_into(delivery_events::table)
        .values(&e)
        .execute(conn)?;
    Ok(())
}

/// Agencies `A1` (province level) and `A2` (district level), and the eight deliveries.
pub async fn seed(app: &TestApp) {
    app.query(|conn| {
        let make = |conn: &mut DbConnection, code: &str, level: &str| {
            let new = NewAgency {
                code: code.into(),
                name: format!("Cơ quan {code}"),
                level: Some(level.into()),
                ..NewAgency::default()
            };
            agencies::create(conn, &new)
                .map(|(a, _)| a.id)
                .map_err(|e| StoreError::Task(e.to_string()))
        };
        let a1 = make(conn, "A1", "province")?;
        let a2 = make(conn, "A2", "district")?;
        let seed = |agency: &str, courier, ward, province, created, state, sla, hours| Seed {
            agency_id: agency.to_owned(),
            courier,
            ward,
            province,
            created,
            state,
            sla_hours: sla,
            delivered_hours: hours,
        };
        let seeds = [
            /* 1 */
            seed(
                &a1,
                "vnpost",
                BA_DINH,
                "01",
                local(1, 11, 9, 0),
                "delivered",
                48,
                Some(10),
            ),
            /* 2 */
            seed(
                &a1,
                "vnpost",
                BA_DINH,
                "01",
                local(1, 11, 10, 0),
                "delivered",
                24,
                Some(30),
            ),
            /* 3 */
            seed(
                &a1,
                "viettelpost",
                NGOC_HA,
                "01",
                local(2, 11, 8, 0),
                "delivered",
                48,
                Some(20),
            ),
            /* 4 */
            seed(
                &a1,
                "vnpost",
                NGOC_HA,
                "01",
                local(2, 11, 0, 5),
                "returned",
                48,
                None,
            ),
            /* 5 */
            seed(
                &a2,
                "viettelpost",
                THU_DAU_MOT,
                "79",
                local(3, 11, 9, 0),
                "in_transit",
                72,
                None,
            ),
            /* 6 */
            seed(
                &a2,
                "vnpost",
                THU_DAU_MOT,
                "79",
                local(3, 11, 11, 0),
                "delivered",
                72,
                Some(50),
            ),
            /* 7: the evening before the period, outside it */
            seed(
                &a1,
                "vnpost",
                BA_DINH,
                "01",
                local(31, 10, 23, 59),
                "delivered",
                48,
                Some(1),
            ),
            /* 8: the last half hour of the period, inside it */
            seed(
                &a2,
                "vnpost",
                THU_DAU_MOT,
                "79",
                local(3, 11, 23, 30),
                "dispatch_failed",
                72,
                None,
            ),
        ];
        let mut ids = Vec::new();
        for (n, s) in seeds.iter().enumerate() {
            ids.push(insert(conn, n + 1, s)?);
        }
        let at = local(4, 11, 9, 0);
        event(conn, &ids[3], "delivery_failed", "consignee_not_home", at)?;
        event(
            conn,
            &ids[3],
            "delivery_failed",
            "consignee_not_home",
            at + TimeDelta::hours(24),
        )?;
        event(
            conn,
            &ids[3],
            "returning",
            "repeated_failures",
            at + TimeDelta::hours(48),
        )?;
        event(
            conn,
            &ids[4],
            "delivery_failed",
            "consignee_unreachable",
            at,
        )?;
        // Outside the period: must not count.
        event(conn, &ids[6], "delivery_failed", "incorrect_address", at)?;
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 11, d).expect("day");
        reports::save_result_totals(conn, &a1, &[(day(1), 5), (day(2), 10)])?;
        reports::save_result_totals(conn, &a2, &[(day(2), 4), (day(3), 10)])?;
        Ok(())
    })
    .await;
}

/// One delivery of `agency_id` in `state`, enqueued now, to Ba Đình by VNPost.
#[allow(dead_code)]
pub fn insert_delivery(
    conn: &mut DbConnection,
    n: usize,
    agency_id: &str,
    state: &'static str,
) -> Result<String, StoreError> {
    let s = Seed {
        agency_id: agency_id.to_owned(),
        courier: "vnpost",
        ward: BA_DINH,
        province: "01",
        created: civicpost::domain::ids::now_utc(),
        state,
        sla_hours: 48,
        delivered_hours: None,
    };
    insert(conn, n, &s)
}
