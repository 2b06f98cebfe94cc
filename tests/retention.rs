//! The retention purge: personal data of deliveries that ended before the cutoff is wiped,
//! batch by batch; deliveries still moving keep theirs; the reports give the same figures
//! afterwards; each run is in the audit log. On SQLite and on PostgreSQL.

mod common;
#[path = "reports/fixture.rs"]
mod fixture;

use chrono::TimeDelta;
use civicpost::domain::courier::Courier;
use civicpost::domain::ids::{new_id, now_utc};
use civicpost::jobs::retention::run_once;
use civicpost::store::schema::{deliveries, delivery_events, notifications, webhook_inbox};
use civicpost::store::{inbox, retention};
use common::TestApp;
use diesel::prelude::*;
use serde_json::Value;

const SUMMARY: &str = "/v1/reports/summary?from=2026-11-01&to=2026-11-03";

/// (tracking code, recipient name, phone, address, email, anonymised) of every delivery.
type Personal = (String, String, String, String, Option<String>, bool);
/// The same as stored: `anonymised_at` instead of the flag.
type Stored = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<chrono::NaiveDateTime>,
);

async fn personal(app: &TestApp) -> Vec<Personal> {
    app.query(|c| {
        let rows = deliveries::table
            .order(deliveries::tracking_code)
            .select((
                deliveries::tracking_code,
                deliveries::recipient_name,
                deliveries::recipient_phone,
                deliveries::address_line,
                deliveries::recipient_email,
                deliveries::anonymised_at,
            ))
            .load::<Stored>(c)?;
        Ok(rows
            .into_iter()
            .map(|(t, n, p, a, e, at)| (t, n, p, a, e, at.is_some()))
            .collect())
    })
    .await
}

/// A notification and a courier note naming the signer on delivery 1, and two courier
/// webhook bodies received 200 days ago: one processed, one still pending.
async fn personal_traces(app: &TestApp) -> String {
    app.query(|c| {
        let id: String = deliveries::table
            .filter(deliveries::tracking_code.eq("TESTREPORT001"))
            .select(deliveries::id)
            .first(c)?;
        diesel::insert_into(notifications::table)
            .values((
                notifications::id.eq(new_id()),
                notifications::delivery_id.eq(&id),
                notifications::state.eq("delivered"),
                notifications::channel.eq("email"),
                notifications::status.eq("sent"),
                notifications::attempts.eq(1),
                notifications::created_at.eq(now_utc()),
                notifications::destination_masked.eq("a***@example.vn"),
                notifications::unsubscribe_token.eq("tok-123"),
            ))
            .execute(c)?;
        diesel::insert_into(delivery_events::table)
            .values((
                delivery_events::id.eq(new_id()),
                delivery_events::delivery_id.eq(&id),
                delivery_events::state.eq("delivered"),
                delivery_events::reason.eq(None::<String>),
                delivery_events::applied.eq(true),
                delivery_events::source.eq("courier"),
                delivery_events::raw_code.eq("501"),
                delivery_events::raw_text.eq("Giao cho Nguyễn Văn An"),
                delivery_events::occurred_at.eq(now_utc() - TimeDelta::days(40)),
                delivery_events::recorded_at.eq(now_utc()),
            ))
            .execute(c)?;
        let old = now_utc() - TimeDelta::days(200);
        for (body, status) in [
            (
                &br#"{"RECEIVER_FULLNAME":"Nguyen Van An","n":1}"#[..],
                inbox::PROCESSED,
            ),
            (
                &br#"{"RECEIVER_FULLNAME":"Nguyen Van An","n":2}"#[..],
                inbox::PENDING,
            ),
        ] {
            let received = inbox::receive(c, Courier::Viettelpost, body)?;
            let inbox::Received::Stored { inbox_id } = received else {
                panic!("stored");
            };
            diesel::update(webhook_inbox::table.find(&inbox_id))
                .set((
                    webhook_inbox::received_at.eq(old),
                    webhook_inbox::status.eq(status),
                ))
                .execute(c)?;
        }
        Ok(id)
    })
    .await
}

#[tokio::test]
async fn ended_deliveries_lose_personal_data_and_the_reports_stay_the_same() {
    let app = TestApp::spawn_without_sandbox().await;
    fixture::seed(&app).await;
    let delivered = personal_traces(&app).await;
    let op = app.operator_key();
    let (status, before) = app.get_as(SUMMARY, &op).await;
    assert_eq!(status, 200, "{before}");

    // Fixture deliveries ended by 10 November 2026; a cutoff then keeps none of them but
    // leaves the two still moving (5: in transit, 8: dispatch failed) alone. Batches of 2
    // prove the loop goes on until nothing is left.
    let all_ended = chrono::NaiveDate::from_ymd_opt(2026, 11, 10)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("date");
    let days = u32::try_from((now_utc() - all_ended).num_days()).expect("days");
    let totals = run_once(&app.state.db, days, 2, "test")
        .await
        .expect("purge")
        .expect("retention on");
    assert_eq!(totals.deliveries, 6, "{totals:?}");
    assert_eq!(totals.webhook_bodies, 1, "only the processed body goes");
    assert!(totals.batches >= 3, "{totals:?}");

    for (code, name, phone, address, email, anonymised) in personal(&app).await {
        let moving = code == "TESTREPORT005" || code == "TESTREPORT008";
        assert_eq!(anonymised, !moving, "{code}");
        if moving {
            assert_eq!(
                (name.as_str(), phone.as_str()),
                ("Nguyễn Văn An", "0912345678")
            );
        } else {
            assert_eq!(
                (name, phone, address, email),
                (String::new(), String::new(), String::new(), None),
                "{code}"
            );
        }
    }
    let (masked, token, raw_text, bodies) = app
        .query(move |c| {
            let n: (Option<String>, Option<String>) = notifications::table
                .filter(notifications::delivery_id.eq(&delivered))
                .select((
                    notifications::destination_masked,
                    notifications::unsubscribe_token,
                ))
                .first(c)?;
            let raw: Vec<Option<String>> = delivery_events::table
                .filter(delivery_events::delivery_id.eq(&delivered))
                .select(delivery_events::raw_text)
                .load(c)?;
            let bodies: Vec<String> = webhook_inbox::table.select(webhook_inbox::status).load(c)?;
            Ok((n.0, n.1, raw, bodies))
        })
        .await;
    assert_eq!((masked, token), (None, None));
    assert!(raw_text.iter().all(Option::is_none), "{raw_text:?}");
    assert_eq!(
        bodies,
        vec![inbox::PENDING.to_owned()],
        "a pending body is never purged"
    );

    let (status, after) = app.get_as(SUMMARY, &op).await;
    assert_eq!(status, 200);
    assert_eq!(after, before, "the statistics survive the purge");

    // A second run finds nothing and still says it ran.
    let again = run_once(&app.state.db, days, 2, "test")
        .await
        .expect("purge");
    assert_eq!(again.map(|t| t.deliveries), Some(0));
    let (status, audit) = app
        .get_as("/v1/admin/audit?action=retention.run", &op)
        .await;
    assert_eq!(status, 200, "{audit}");
    let runs = audit.as_array().expect("entries");
    assert_eq!(runs.len(), 2, "{audit}");
    let detail = |i: usize| -> &Value { &runs[i]["detail"] };
    assert_eq!(runs[0]["actor"], "test");
    assert_eq!(detail(1)["deliveries_anonymised"], 6, "{audit}");
    assert_eq!(detail(0)["deliveries_anonymised"], 0, "{audit}");
    assert_eq!(detail(1)["personal_data_days"], days);
}

#[tokio::test]
async fn deliveries_within_the_retention_period_and_zero_days_are_left_alone() {
    let app = TestApp::spawn_without_sandbox().await;
    fixture::seed(&app).await;
    let before = personal(&app).await;
    let totals = run_once(&app.state.db, 3650, 500, "test")
        .await
        .expect("purge");
    assert_eq!(
        totals.map(|t| t.deliveries),
        Some(0),
        "ten years keeps everything"
    );
    assert_eq!(
        run_once(&app.state.db, 0, 500, "test")
            .await
            .expect("purge"),
        None,
        "0 days is off"
    );
    assert_eq!(personal(&app).await, before);
    let entries = app.query(retention_runs).await;
    assert_eq!(entries, 1, "the switched-off run writes nothing");
}

fn retention_runs(
    c: &mut civicpost::store::DbConnection,
) -> Result<usize, civicpost::store::StoreError> {
    Ok(civicpost::store::audit::recent(c, Some("retention.run"), 10)?.len())
}

#[test]
fn a_run_records_its_totals() {
    let mut totals = retention::RunTotals::default();
    totals.add(retention::BatchOutcome {
        deliveries: 2,
        webhook_bodies: 1,
    });
    totals.add(retention::BatchOutcome {
        deliveries: 1,
        webhook_bodies: 0,
    });
    assert_eq!(
        (totals.deliveries, totals.webhook_bodies, totals.batches),
        (3, 1, 2)
    );
}
