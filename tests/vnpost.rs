//! The VNPost adapter against its simulator, over real HTTP on 127.0.0.1.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use actix_web::http::header::HeaderMap;
use actix_web::{App, HttpResponse, HttpServer, web};
use chrono::Utc;
use civicpost::cache::Cache;
use civicpost::couriers::vnpost::sim::{self, SimConfig, SimState};
use civicpost::couriers::vnpost::{VnpostAdapter, VnpostConfig, signature};
use civicpost::couriers::{
    CourierAdapter, CourierError, OrderRequest, Party, QuoteRequest, WebhookError,
};
use civicpost::domain::state::DeliveryState;
use rsa::RsaPrivateKey;
use rsa::pkcs8::{EncodePublicKey, LineEnding};
use serde_json::{Value, json};

/// Key generation is slow in debug builds: one simulator key for the whole file.
fn sim_key() -> RsaPrivateKey {
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap())
        .clone()
}

type Received = Arc<Mutex<Vec<Vec<u8>>>>;

struct Harness {
    port: u16,
    sim: Arc<SimState>,
    received: Received,
    control: reqwest::Client,
}

async fn receive(received: web::Data<Received>, body: web::Bytes) -> HttpResponse {
    received.lock().unwrap().push(body.to_vec());
    HttpResponse::Ok().finish()
}

async fn start() -> Harness {
    let sim = Arc::new(
        SimState::with_key(
            SimConfig {
                username: "partner".into(),
                password: "s3cret".into(),
                customer_code: "T000180585".into(),
                webhook_url: None,
                autopilot: None,
            },
            sim_key(),
        )
        .unwrap(),
    );
    let received: Received = Arc::default();
    let (s, r) = (sim.clone(), received.clone());
    let server = HttpServer::new(move || {
        App::new()
            .service(web::scope("/sim/vnpost").configure(sim::configure(s.clone())))
            .app_data(web::Data::new(r.clone()))
            .route("/hooks/vnpost", web::post().to(receive))
    })
    .workers(2)
    .bind(("127.0.0.1", 0))
    .unwrap();
    let port = server.addrs()[0].port();
    actix_web::rt::spawn(server.run());
    Harness {
        port,
        sim,
        received,
        control: reqwest::Client::new(),
    }
}

impl Harness {
    fn config(&self) -> VnpostConfig {
        VnpostConfig {
            base_url: format!("http://127.0.0.1:{}/sim/vnpost", self.port),
            username: "partner".into(),
            password: "s3cret".to_string().into(),
            customer_code: "T000180585".into(),
            webhook_public_key_pem: self.sim.public_key_pem().to_string(),
            timeout: Duration::from_secs(2),
        }
    }

    fn adapter(&self) -> VnpostAdapter {
        VnpostAdapter::new(self.config(), Some(Cache::in_process())).unwrap()
    }

    async fn control(&self, path: &str, body: Value) -> Value {
        let url = format!("http://127.0.0.1:{}/sim/vnpost/_control/{path}", self.port);
        let answer = self.control.post(url).json(&body).send().await.unwrap();
        assert!(answer.status().is_success(), "{path}: {}", answer.status());
        answer.json().await.unwrap_or(Value::Null)
    }

    fn hook_url(&self) -> String {
        format!("http://127.0.0.1:{}/hooks/vnpost", self.port)
    }
}

fn party(province: &str, ward: &str) -> Party {
    Party {
        name: "Nguyễn Văn A".into(),
        phone: "0912345678".into(),
        email: None,
        address_line: "1 Tràng Tiền".into(),
        province_code: "01".into(),
        ward_code: "00070".into(),
        courier_province_id: province.into(),
        courier_district_id: None,
        courier_ward_id: ward.into(),
    }
}

fn order(reference: &str) -> OrderRequest {
    OrderRequest {
        reference: reference.into(),
        service_code: "ETN011".into(),
        sender: party("10", "10104"),
        receiver: party("70", "70101"),
        weight_grams: 1200,
        declared_value_vnd: 0,
        collect_on_delivery_vnd: 50_000,
        receiver_pays_postage: false,
        product_name: "Kết quả thủ tục hành chính".into(),
        note: None,
    }
}

#[actix_web::test]
async fn authenticates_and_renews_after_forced_expiry() {
    let h = start().await;
    let adapter = h.adapter();
    adapter.authenticate().await.unwrap();
    h.control("faults", json!({"expireTokens": true})).await;
    // The stale token is refused once, renewed, and the call retried.
    assert_eq!(adapter.address_units().await.unwrap().len(), 3_321);

    let mut wrong = h.config();
    wrong.password = "nope".to_string().into();
    let wrong = VnpostAdapter::new(wrong, None).unwrap();
    assert!(matches!(
        wrong.authenticate().await,
        Err(CourierError::Auth(_))
    ));
}

#[actix_web::test]
async fn replicas_share_one_token_through_the_cache() {
    let h = start().await;
    let cache = Cache::in_process();
    let first = VnpostAdapter::new(h.config(), Some(cache.clone())).unwrap();
    let second = VnpostAdapter::new(h.config(), Some(cache)).unwrap();
    first.address_units().await.unwrap();
    second.address_units().await.unwrap();
    assert_eq!(h.sim.login_count(), 1);
    // After expiry the first replica to notice logs in; the other picks the new token up.
    h.control("faults", json!({"expireTokens": true})).await;
    second.address_units().await.unwrap();
    first.address_units().await.unwrap();
    assert_eq!(h.sim.login_count(), 2);
}

#[actix_web::test]
async fn simulator_runs_standalone_at_the_root() {
    let sim = Arc::new(
        SimState::with_key(
            SimConfig {
                username: "partner".into(),
                password: "s3cret".into(),
                customer_code: "T000180585".into(),
                webhook_url: None,
                autopilot: None,
            },
            sim_key(),
        )
        .unwrap(),
    );
    let public_key = sim.public_key_pem().to_string();
    let server = HttpServer::new(move || App::new().configure(sim::configure(sim.clone())))
        .workers(1)
        .bind(("127.0.0.1", 0))
        .unwrap();
    let port = server.addrs()[0].port();
    actix_web::rt::spawn(server.run());
    let served_key = reqwest::get(format!("http://127.0.0.1:{port}/_control/public-key"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(served_key, public_key);
    let config = VnpostConfig {
        base_url: format!("http://127.0.0.1:{port}"),
        username: "partner".into(),
        password: "s3cret".to_string().into(),
        customer_code: "T000180585".into(),
        webhook_public_key_pem: served_key,
        timeout: Duration::from_secs(2),
    };
    let adapter = VnpostAdapter::new(config, None).unwrap();
    assert!(adapter.create_order(&order("D-070")).await.is_ok());
}

#[actix_web::test]
async fn quotes_every_service() {
    let h = start().await;
    let quotes = h
        .adapter()
        .quote(&QuoteRequest {
            sender: party("10", "10104"),
            receiver: party("94", "94201"),
            weight_grams: 1200,
            declared_value_vnd: 0,
            collect_on_delivery_vnd: 0,
        })
        .await
        .unwrap();
    assert_eq!(quotes.len(), 2);
    assert_eq!(quotes[0].service_code, "ETN011");
    assert_eq!(quotes[0].fee_vnd, 32_000 + 2 * 8_000);
}

#[actix_web::test]
async fn creation_is_idempotent_on_our_reference() {
    let h = start().await;
    let adapter = h.adapter();
    let first = adapter.create_order(&order("D-001")).await.unwrap();
    let again = adapter.create_order(&order("D-001")).await.unwrap();
    let other = adapter.create_order(&order("D-002")).await.unwrap();
    assert_eq!(first, again);
    assert_ne!(first.tracking_number, other.tracking_number);
    let code = &first.tracking_number;
    assert!(
        code.starts_with("EL") && code.ends_with("VN") && code.len() == 13,
        "{code}"
    );
    assert_eq!(first.fee_vnd, Some(48_000));
}

#[actix_web::test]
async fn cancels_before_pickup_and_is_refused_after() {
    let h = start().await;
    let adapter = h.adapter();
    let early = adapter.create_order(&order("D-010")).await.unwrap();
    adapter
        .cancel_order(&early.tracking_number, "D-010")
        .await
        .unwrap();
    let history = adapter
        .tracking_history(&early.tracking_number)
        .await
        .unwrap();
    assert_eq!(
        history.last().unwrap().state,
        Some(DeliveryState::Cancelled)
    );

    let late = adapter.create_order(&order("D-011")).await.unwrap();
    h.control(
        "advance",
        json!({"itemCode": late.tracking_number, "statuses": [6]}),
    )
    .await;
    let refused = adapter.cancel_order(&late.tracking_number, "D-011").await;
    assert!(
        matches!(refused, Err(CourierError::Refused(_))),
        "{refused:?}"
    );
}

#[actix_web::test]
async fn history_maps_codes_and_converts_times_to_utc() {
    let h = start().await;
    let adapter = h.adapter();
    let created = adapter.create_order(&order("D-020")).await.unwrap();
    let statuses = json!([2, 6, 10, 12, 21, 14]);
    h.control(
        "advance",
        json!({"itemCode": created.tracking_number, "statuses": statuses}),
    )
    .await;
    let events = adapter
        .tracking_history(&created.tracking_number)
        .await
        .unwrap();
    let states: Vec<_> = events.iter().map(|e| e.state).collect();
    use DeliveryState::*;
    assert_eq!(
        states,
        [
            Some(AwaitingPickup),
            Some(AwaitingPickup),
            Some(PickedUp),
            Some(InTransit),
            Some(OutForDelivery),
            None,
            Some(Delivered)
        ]
    );
    assert!(events.iter().all(|e| e.known_code));
    // The simulator answers in Vietnam local time; we must read it back as UTC.
    let drift = (Utc::now().naive_utc() - events[0].occurred_at)
        .num_seconds()
        .abs();
    assert!(drift < 120, "history time off by {drift}s");
}

#[actix_web::test]
async fn refusals_outages_and_timeouts_are_told_apart() {
    let h = start().await;
    let adapter = h.adapter();
    let mut bad_ward = order("D-030");
    bad_ward.receiver.courier_ward_id = "99999".into();
    let refused = adapter.create_order(&bad_ward).await;
    assert!(
        matches!(refused, Err(CourierError::Refused(_))),
        "{refused:?}"
    );

    h.control("faults", json!({"refuseNext": 1})).await;
    let refused = adapter.create_order(&order("D-031")).await;
    assert!(
        matches!(refused, Err(CourierError::Refused(_))),
        "{refused:?}"
    );

    h.control("faults", json!({"failNext": 3})).await;
    let down = adapter.address_units().await;
    assert!(
        matches!(down, Err(CourierError::Unavailable(_))),
        "{down:?}"
    );
    h.control("faults", json!({"failNext": 0, "delayMs": 1500}))
        .await;
    let mut impatient = h.config();
    impatient.timeout = Duration::from_millis(300);
    let slow = VnpostAdapter::new(impatient, None)
        .unwrap()
        .authenticate()
        .await;
    assert!(
        matches!(slow, Err(CourierError::Unavailable(_))),
        "{slow:?}"
    );
    h.control("faults", json!({"delayMs": 0})).await;

    let mut closed = h.config();
    closed.base_url = "http://127.0.0.1:9/customer-partner".into();
    let gone = VnpostAdapter::new(closed, None)
        .unwrap()
        .authenticate()
        .await;
    assert!(
        matches!(gone, Err(CourierError::Unavailable(_))),
        "{gone:?}"
    );
}

#[actix_web::test]
async fn signed_webhooks_verify_and_parse_duplicates_and_batches() {
    let h = start().await;
    let adapter = h.adapter();
    let created = adapter.create_order(&order("D-040")).await.unwrap();
    h.control("webhook", json!({"url": h.hook_url()})).await;
    let sent = h
        .control(
            "advance",
            json!({"itemCode": created.tracking_number, "statuses": [6, 10],
                                   "duplicate": true, "reverse": true}),
        )
        .await;
    assert_eq!(sent["answers"], json!([200, 200, 200, 200]));
    let bodies = h.received.lock().unwrap().clone();
    let headers = HeaderMap::new();
    let mut codes = Vec::new();
    for body in &bodies {
        adapter.verify_webhook(&headers, body).unwrap();
        let events = adapter.parse_webhook(body).unwrap();
        assert_eq!(events[0].reference.as_deref(), Some("D-040"));
        codes.push(events[0].raw_code.clone());
    }
    assert_eq!(codes, ["10", "10", "6", "6"]);

    // Tampered status: the signature no longer matches.
    let tampered = String::from_utf8(bodies[0].clone())
        .unwrap()
        .replace("\"status\":10", "\"status\":14");
    assert_ne!(tampered.as_bytes(), bodies[0].as_slice());
    assert!(matches!(
        adapter.verify_webhook(&headers, tampered.as_bytes()),
        Err(WebhookError::Unauthenticated)
    ));

    // Someone else's key.
    let other = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 1024).unwrap();
    let mut config = h.config();
    config.webhook_public_key_pem = other
        .to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .unwrap();
    let stranger = VnpostAdapter::new(config, None).unwrap();
    assert!(matches!(
        stranger.verify_webhook(&headers, &bodies[0]),
        Err(WebhookError::Unauthenticated)
    ));

    // Several records in one body, signed over the first.
    h.received.lock().unwrap().clear();
    h.control(
        "advance",
        json!({"itemCode": created.tracking_number, "statuses": [12, 14], "batch": true}),
    )
    .await;
    let batch = h.received.lock().unwrap()[0].clone();
    adapter.verify_webhook(&headers, &batch).unwrap();
    let states: Vec<_> = adapter
        .parse_webhook(&batch)
        .unwrap()
        .iter()
        .map(|e| e.state)
        .collect();
    assert_eq!(
        states,
        [
            Some(DeliveryState::OutForDelivery),
            Some(DeliveryState::Delivered)
        ]
    );

    assert!(matches!(
        adapter.verify_webhook(&headers, b"{"),
        Err(WebhookError::Malformed(_))
    ));
}

#[actix_web::test]
async fn current_body_times_are_vietnam_local() {
    let h = start().await;
    let body = sim::signed_body(
        &h.sim,
        vec![
            json!({"itemCode": "EL100000015VN", "status": 15, "saleOrderCode": "D-050"}),
            json!({"itemCode": "EL100000015VN", "status": 27, "saleOrderCode": "D-050"}),
        ],
        chrono::NaiveDate::from_ymd_opt(2026, 11, 21)
            .unwrap()
            .and_hms_opt(23, 0, 0)
            .unwrap(),
    );
    assert_eq!(body["sendDate"], "2026-11-22T06:00:00");
    let bytes = serde_json::to_vec(&body).unwrap();
    let adapter = h.adapter();
    adapter.verify_webhook(&HeaderMap::new(), &bytes).unwrap();
    let events = adapter.parse_webhook(&bytes).unwrap();
    assert_eq!(events[0].state, Some(DeliveryState::DeliveryFailed));
    assert_eq!(events[0].occurred_at.to_string(), "2026-11-21 23:00:00");
    // An undocumented code is kept, flagged, and changes nothing.
    assert_eq!((events[1].state, events[1].known_code), (None, false));
    assert_eq!(events[1].raw_code, "27");
}

#[actix_web::test]
async fn legacy_webhook_body_is_accepted() {
    let h = start().await;
    let adapter = h.adapter();
    let data = json!({"ItemCode": "EL491610889VN", "OrderCode": "D-060", "OrderStatusId": 100,
                      "LastUpdateTime": "0001-01-01T00:00:00"})
    .to_string();
    let send_date = "2021-05-17T21:40:09";
    let sign_data = signature::sign(&sim_key(), &format!("{data}{send_date}"));
    let body =
        serde_json::to_vec(&json!({"Data": data, "SendDate": send_date, "SignData": sign_data}))
            .unwrap();
    adapter.verify_webhook(&HeaderMap::new(), &body).unwrap();
    let event = &adapter.parse_webhook(&body).unwrap()[0];
    assert_eq!(event.tracking_number, "EL491610889VN");
    assert_eq!(event.reference.as_deref(), Some("D-060"));
    assert_eq!(event.state, Some(DeliveryState::Delivered));
    assert_eq!(event.occurred_at.to_string(), "2021-05-17 14:40:09");

    let forged = String::from_utf8(body)
        .unwrap()
        .replace("2021-05-17T21:40:09", "2021-05-17T21:40:10");
    assert!(matches!(
        adapter.verify_webhook(&HeaderMap::new(), forged.as_bytes()),
        Err(WebhookError::Unauthenticated)
    ));
}

#[actix_web::test]
async fn lists_address_units_with_vnpost_ids() {
    let h = start().await;
    let units = h.adapter().address_units().await.unwrap();
    let ba_dinh = units
        .iter()
        .find(|u| u.ward_name == "Phường Ba Đình")
        .unwrap();
    assert_eq!(ba_dinh.province_id, "10");
    assert_eq!(ba_dinh.province_name, "Thành phố Hà Nội");
    assert_eq!(ba_dinh.ward_id, "10101");
    let hoan_kiem = units.iter().find(|u| u.ward_id == "10104").unwrap();
    assert_eq!(hoan_kiem.ward_name, "Phường Hoàn Kiếm");
    assert!(units.iter().all(|u| u.district_id.is_none()));
    // The whole official map, one commune missing and one extra, as a real list has them.
    assert_eq!(units.len(), 3_321);
    let hcmc: Vec<&str> = units
        .iter()
        .filter(|u| u.province_id == "70")
        .map(|u| u.ward_name.as_str())
        .collect();
    assert!(hcmc.contains(&"Phường Bến Nghé"));
}
