//! How ingestion holds up, on both backends: a job run twice, copies of one event processed
//! at once, the unique index behind them, and courier clocks that run wild. Viettel Post
//! bodies serve as the example; the guarantees are the same for every courier.

mod common;
#[path = "webhooks/support.rs"]
mod support;

use civicpost::domain::courier::Courier;
use civicpost::store::schema::{outbox_jobs, webhook_inbox};
use common::TestApp;
use diesel::prelude::*;
use serde_json::{Value, json};
use support::*;

const VTP: Courier = Courier::Viettelpost;

async fn send(app: &TestApp, body: &Value) -> u16 {
    post_hook(app, VTP, &bytes(body)).await.0
}

#[tokio::test]
async fn a_rerun_of_the_same_inbox_row_records_nothing_twice() {
    let app = TestApp::spawn().await;
    let id = delivery(&app, VTP, Some("18000000107")).await;
    send(&app, &vtp_body("18000000107", 500, "12/11/2025 08:00:00")).await;
    drain(&app).await;
    // As if the worker died after the event's commit but before the inbox row was marked:
    // the row is pending again and its job runs once more.
    app.query(|c| {
        diesel::update(webhook_inbox::table)
            .set(webhook_inbox::status.eq("pending"))
            .execute(c)?;
        diesel::update(outbox_jobs::table.filter(outbox_jobs::kind.eq("ingest_webhook")))
            .set((
                outbox_jobs::status.eq("pending"),
                outbox_jobs::max_attempts.eq(5),
            ))
            .execute(c)?;
        Ok(())
    })
    .await;
    assert_eq!(drain(&app).await, 1);
    assert_eq!(courier_events(&app, &id).await, ["500:applied"]);
    assert_eq!(jobs(&app, &id, "notify").await, ["out_for_delivery"]);
    assert_eq!(
        inbox(&app).await,
        ["viettelpost processed already_recorded=1"]
    );
}

#[tokio::test]
async fn copies_of_one_event_processed_at_once_apply_once() {
    let app = TestApp::spawn().await;
    let id = delivery(&app, VTP, Some("18000000108")).await;
    // Eight bodies that differ in bytes but carry the same event, run by concurrent jobs.
    for n in 0..8 {
        let mut body = vtp_body("18000000108", 500, "12/11/2025 08:00:00");
        body["DATA"]["NOTE"] = json!(format!("copy {n}"));
        assert_eq!(send(&app, &body).await, 200);
    }
    assert_eq!(drain(&app).await, 8);
    let history = courier_events(&app, &id).await;
    assert_eq!(history.len(), 8);
    assert_eq!(history.iter().filter(|e| *e == "500:applied").count(), 1);
    assert_eq!(jobs(&app, &id, "notify").await, ["out_for_delivery"]);
}

#[tokio::test]
async fn the_database_refuses_a_second_applied_copy_of_an_event() {
    use civicpost::store::schema::delivery_events as ev;
    let app = TestApp::spawn().await;
    let id = delivery(&app, VTP, Some("18000000110")).await;
    let insert = move |applied: bool| {
        let id = id.clone();
        move |c: &mut civicpost::store::DbConnection| {
            let now = civicpost::domain::ids::now_utc();
            let inserted = diesel::insert_into(ev::table)
                .values((
                    ev::id.eq(civicpost::domain::ids::new_id()),
                    ev::delivery_id.eq(id),
                    ev::state.eq("out_for_delivery"),
                    ev::applied.eq(applied),
                    ev::source.eq("courier"),
                    ev::raw_code.eq("500"),
                    ev::occurred_at.eq(utc("2025-11-12 01:00:00")),
                    ev::recorded_at.eq(now),
                ))
                .execute(c);
            Ok(inserted.map_err(|e| e.to_string()))
        }
    };
    assert!(app.query(insert(true)).await.is_ok());
    assert!(app.query(insert(false)).await.is_ok(), "history may repeat");
    let second = app.query(insert(true)).await;
    assert!(
        second
            .as_ref()
            .is_err_and(|e| e.to_lowercase().contains("unique")),
        "{second:?}"
    );
}

#[tokio::test]
async fn an_event_dated_in_the_future_does_not_block_later_ones() {
    let app = TestApp::spawn().await;
    let id = delivery(&app, VTP, Some("18000000111")).await;
    // A mistyped year: taken as arriving now, not as the delivery's latest time for decades.
    send(&app, &vtp_body("18000000111", 500, "12/11/2099 08:00:00")).await;
    drain(&app).await;
    let (state, _, last, _) = delivery_state(&app, &id).await;
    assert_eq!(state, "out_for_delivery");
    assert!(
        last.is_some_and(|t| t < utc("2099-01-01 00:00:00")),
        "{last:?}"
    );
    // A minute on: courier times are whole seconds, the stand-in arrival time is not.
    let now =
        chrono::Utc::now().naive_utc() + chrono::Duration::hours(7) + chrono::Duration::minutes(1);
    let local = now.format("%d/%m/%Y %H:%M:%S").to_string();
    send(&app, &vtp_body("18000000111", 501, &local)).await;
    drain(&app).await;
    assert_eq!(state_of(&app, &id).await, "delivered");
}

#[tokio::test]
async fn a_batch_stores_each_body_once_and_answers_in_order() {
    use civicpost::store::inbox::{self, Received};
    let app = TestApp::spawn().await;
    let (a, b) = (b"{\"n\":1}".to_vec(), b"{\"n\":2}".to_vec());
    let (first, again) = app
        .query(move |c| {
            let first = inbox::receive_batch(c, &[(VTP, &a[..]), (VTP, &b[..]), (VTP, &a[..])])?;
            // The same bytes from the other courier are another body.
            let again = inbox::receive_batch(c, &[(VTP, &b[..]), (Courier::Vnpost, &b[..])])?;
            Ok((first, again))
        })
        .await;
    let stored = |r: &Received| matches!(r, Received::Stored { .. });
    assert_eq!(
        first.iter().map(stored).collect::<Vec<_>>(),
        [true, true, false]
    );
    assert_eq!(again.iter().map(stored).collect::<Vec<_>>(), [false, true]);
    let (rows, ingest_jobs) = app
        .query(|c| {
            let rows: i64 = webhook_inbox::table.count().get_result(c)?;
            let jobs: i64 = outbox_jobs::table
                .filter(outbox_jobs::kind.eq("ingest_webhook"))
                .count()
                .get_result(c)?;
            Ok((rows, jobs))
        })
        .await;
    assert_eq!(
        (rows, ingest_jobs),
        (3, 3),
        "one row and one job per distinct body"
    );
}

/// 60 webhooks at once, each body sent twice: the group commit stores 30, answers all 60
/// with 200, and every stored body is ingested.
#[tokio::test]
async fn a_burst_of_concurrent_webhooks_is_stored_once_each() {
    let app = TestApp::spawn().await;
    let id = delivery(&app, VTP, Some("18000000109")).await;
    let bodies: Vec<Vec<u8>> = (0..30)
        .map(|n| {
            let mut body = vtp_body("18000000109", 200, "12/11/2025 08:00:00");
            body["DATA"]["NOTE"] = json!(format!("burst {n}"));
            bytes(&body)
        })
        .collect();
    let sends = bodies
        .iter()
        .chain(bodies.iter())
        .map(|body| post_hook(&app, VTP, body));
    let answers = futures_util::future::join_all(sends).await;
    assert!(
        answers.iter().all(|(status, _)| *status == 200),
        "{answers:?}"
    );
    assert_eq!(drain(&app).await, 30);
    assert_eq!(inbox(&app).await.len(), 30);
    assert_eq!(courier_events(&app, &id).await.len(), 30);
}
