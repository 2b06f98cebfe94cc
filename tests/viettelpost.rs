//! The Viettel Post adapter against its simulator over real HTTP on 127.0.0.1.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpResponse, HttpServer, web};
use civicpost::cache::Cache;
use civicpost::couriers::viettelpost::sim::{Faults, SimConfig, SimState};
use civicpost::couriers::viettelpost::{ViettelConfig, ViettelPostAdapter, sim};
use civicpost::couriers::{
    CourierAdapter, CourierError, CourierUnit, OrderRequest, Party, QuoteRequest, WebhookError,
};
use civicpost::domain::state::DeliveryState;
use secrecy::SecretString;

const SECRET: &str = "hook-secret-0333";

struct Harness {
    base: String,
    sim: SimState,
    hooks: Arc<Mutex<Vec<Vec<u8>>>>,
}

async fn start() -> Harness {
    let sim = SimState::new(SimConfig {
        username: "0912345678".to_owned(),
        password: "pass-word".to_owned(),
        webhook_token: SECRET.to_owned(),
        webhook_url: None,
        token_ttl: Duration::from_secs(3600),
        autopilot: None,
    });
    let hooks: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let (state, received) = (sim.clone(), hooks.clone());
    let server = HttpServer::new(move || {
        let received = received.clone();
        App::new()
            .service(web::scope("/sim/viettelpost").configure(sim::configure(state.clone())))
            .route(
                "/hooks/viettelpost",
                web::post().to(move |body: web::Bytes| {
                    let received = received.clone();
                    async move {
                        received.lock().unwrap().push(body.to_vec());
                        HttpResponse::Ok().finish()
                    }
                }),
            )
    })
    .workers(2)
    .bind("127.0.0.1:0")
    .unwrap();
    let addr = server.addrs()[0];
    tokio::spawn(server.run());
    let base = format!("http://{addr}/sim/viettelpost");
    sim.set_webhook_url(Some(format!("http://{addr}/hooks/viettelpost")));
    Harness { base, sim, hooks }
}

fn config(base: &str, timeout: Duration) -> ViettelConfig {
    ViettelConfig {
        base_url: base.to_owned(),
        username: "0912345678".to_owned(),
        password: SecretString::from("pass-word"),
        webhook_token: SecretString::from(SECRET),
        timeout,
    }
}

fn adapter(h: &Harness) -> ViettelPostAdapter {
    ViettelPostAdapter::new(config(&h.base, Duration::from_secs(2)), None).unwrap()
}

fn party(unit: &CourierUnit, address: &str) -> Party {
    Party {
        name: "Nguyễn Văn An".to_owned(),
        phone: "0912345678".to_owned(),
        email: None,
        address_line: address.to_owned(),
        province_code: "01".to_owned(),
        ward_code: "00004".to_owned(),
        courier_province_id: unit.province_id.clone(),
        courier_district_id: unit.district_id.clone(),
        courier_ward_id: unit.ward_id.clone(),
    }
}

async fn units(a: &ViettelPostAdapter) -> Vec<CourierUnit> {
    a.address_units().await.unwrap()
}

fn find<'a>(units: &'a [CourierUnit], ward: &str) -> &'a CourierUnit {
    // VTP writes ward names in capitals.
    let ward = ward.to_uppercase();
    units.iter().find(|u| u.ward_name == ward).unwrap()
}

fn order(units: &[CourierUnit], reference: &str) -> OrderRequest {
    OrderRequest {
        reference: reference.to_owned(),
        service_code: "VCN".to_owned(),
        sender: party(find(units, "Phường Ba Đình"), "1 Đội Cấn"),
        receiver: party(find(units, "Phường Thủ Dầu Một"), "5 Yersin"),
        weight_grams: 300,
        declared_value_vnd: 0,
        collect_on_delivery_vnd: 50_000,
        receiver_pays_postage: false,
        product_name: "Kết quả thủ tục hành chính".to_owned(),
        note: None,
    }
}

fn quote_request(units: &[CourierUnit], from: &str, to: &str) -> QuoteRequest {
    QuoteRequest {
        sender: party(find(units, from), "1 Đội Cấn"),
        receiver: party(find(units, to), "5 Yersin"),
        weight_grams: 800,
        declared_value_vnd: 0,
        collect_on_delivery_vnd: 0,
    }
}

#[actix_web::test]
async fn address_units_cover_the_official_map_with_vtp_ids_and_naming() {
    let h = start().await;
    let units = units(&adapter(&h)).await;
    assert_eq!(units.len(), 3_321);
    let ba_dinh = find(&units, "Phường Ba Đình");
    assert_eq!(ba_dinh.ward_name, "PHƯỜNG BA ĐÌNH");
    assert_eq!(ba_dinh.province_id, "1");
    assert_eq!(ba_dinh.province_name, "Hà Nội");
    assert_ne!(ba_dinh.ward_id, "00004");
    assert_eq!(ba_dinh.district_id.as_deref(), Some("100000001"));
    // Names of today: units.csv with the renames of later-changes.csv.
    let csv = ["units.csv", "later-changes.csv"]
        .map(|f| std::fs::read_to_string(format!("fixtures/admin-units/{f}")).unwrap())
        .concat()
        .to_uppercase();
    let official: Vec<&str> = units
        .iter()
        .map(|u| u.ward_name.as_str())
        .filter(|name| csv.contains(&format!(",{name},")))
        .collect();
    // All but the two deliberate quirks: an older spelling and an abolished ward.
    assert_eq!(official.len(), 3_319);
    assert!(!official.contains(&"XÃ ĐẮK HÀ") && !official.contains(&"PHƯỜNG PHÚC XÁ"));
}

#[actix_web::test]
async fn login_renewal_and_shared_token() {
    let h = start().await;
    let cache = Cache::in_process();
    let first =
        ViettelPostAdapter::new(config(&h.base, Duration::from_secs(2)), Some(cache.clone()))
            .unwrap();
    first.authenticate().await.unwrap();
    // Login + ownerconnect.
    assert_eq!(h.sim.tokens_issued(), 2);
    let units = units(&first).await;
    let request = quote_request(&units, "Phường Ba Đình", "Phường Ngọc Hà");

    // A second replica takes the token from the cache instead of logging in.
    let second =
        ViettelPostAdapter::new(config(&h.base, Duration::from_secs(2)), Some(cache)).unwrap();
    second.quote(&request).await.unwrap();
    assert_eq!(h.sim.tokens_issued(), 2);

    // "Token invalid" → one renewal, then the call succeeds.
    h.sim.expire_tokens();
    assert!(!second.quote(&request).await.unwrap().is_empty());
    assert_eq!(h.sim.tokens_issued(), 4);
    // The first replica finds the renewed token in the cache.
    first.quote(&request).await.unwrap();
    assert_eq!(h.sim.tokens_issued(), 4);

    let mut wrong = config(&h.base, Duration::from_secs(2));
    wrong.password = SecretString::from("nope");
    let wrong = ViettelPostAdapter::new(wrong, None).unwrap();
    assert!(
        matches!(wrong.authenticate().await, Err(CourierError::Auth(m)) if m.contains("password"))
    );
}

#[actix_web::test]
async fn quote_reads_the_bare_array() {
    let h = start().await;
    let a = adapter(&h);
    let units = units(&a).await;
    let same = a
        .quote(&quote_request(&units, "Phường Ba Đình", "Phường Ngọc Hà"))
        .await
        .unwrap();
    let phs = same.iter().find(|q| q.service_code == "PHS").unwrap();
    assert_eq!(phs.service_name, "Nội tỉnh tiết kiệm");
    assert_eq!(phs.hours, Some(24));
    assert!(phs.fee_vnd > 0);
    let far = a
        .quote(&quote_request(&units, "Phường Ba Đình", "Phường Hải Vân"))
        .await
        .unwrap();
    assert!(far.iter().all(|q| q.service_code != "PHS"));
    assert!(far.iter().any(|q| q.service_code == "VCN"));
}

#[actix_web::test]
async fn create_is_idempotent_on_reference_and_truncates_by_bytes() {
    let h = start().await;
    let a = adapter(&h);
    let units = units(&a).await;
    let mut request = order(&units, "DLV-0001");
    // 20 × 18 chars of Vietnamese: well over 150 bytes, which the simulator would refuse.
    request.receiver.address_line = "Đường Nguyễn Trãi ".repeat(20);
    let first = a.create_order(&request).await.unwrap();
    assert!(first.tracking_number.starts_with("18"));
    assert!(first.fee_vnd.is_some());
    let again = a.create_order(&request).await.unwrap();
    assert_eq!(again.tracking_number, first.tracking_number);
    let other = a.create_order(&order(&units, "DLV-0002")).await.unwrap();
    assert_ne!(other.tracking_number, first.tracking_number);
}

#[actix_web::test]
async fn cancel_follows_vtp_rules() {
    let h = start().await;
    let a = adapter(&h);
    let units = units(&a).await;
    let fresh = a.create_order(&order(&units, "DLV-C1")).await.unwrap();
    a.cancel_order(&fresh.tracking_number, "DLV-C1")
        .await
        .unwrap();
    assert_eq!(h.sim.order_status(&fresh.tracking_number), Some(107));
    // A retried cancel is not an error.
    a.cancel_order(&fresh.tracking_number, "DLV-C1")
        .await
        .unwrap();
    for (reference, status) in [("DLV-C2", 105), ("DLV-C3", 200)] {
        let created = a.create_order(&order(&units, reference)).await.unwrap();
        h.sim
            .advance(&created.tracking_number, &[status], None)
            .await
            .unwrap();
        assert!(matches!(
            a.cancel_order(&created.tracking_number, reference).await,
            Err(CourierError::Refused(_))
        ));
    }
    assert!(matches!(
        a.cancel_order("18999999999", "x").await,
        Err(CourierError::Refused(m)) if m == "Order does not exist"
    ));
}

#[actix_web::test]
async fn data_and_route_errors_are_refusals() {
    let h = start().await;
    let a = adapter(&h);
    let units = units(&a).await;
    let mut request = order(&units, "DLV-R1");
    request.receiver.courier_ward_id = "424242".to_owned();
    let error = a.create_order(&request).await.unwrap_err();
    assert!(
        matches!(&error, CourierError::Refused(m) if m == "Invalid [RECEIVER_WARD]"),
        "{error}"
    );

    h.sim.set_faults(Faults {
        refuse_route: true,
        ..Faults::default()
    });
    let error = a
        .quote(&quote_request(&units, "Phường Ba Đình", "Phường Hải Vân"))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, CourierError::Refused(m) if m.contains("itinerary")),
        "{error}"
    );
}

#[actix_web::test]
async fn server_errors_timeouts_and_dead_hosts_are_unavailable() {
    let h = start().await;
    let a = adapter(&h);
    let units = units(&a).await;
    let request = quote_request(&units, "Phường Ba Đình", "Phường Ngọc Hà");
    a.authenticate().await.unwrap();

    h.sim.set_faults(Faults {
        fail_next: 1,
        ..Faults::default()
    });
    assert!(matches!(
        a.quote(&request).await,
        Err(CourierError::Unavailable(_))
    ));
    assert!(a.quote(&request).await.is_ok());

    let impatient =
        ViettelPostAdapter::new(config(&h.base, Duration::from_millis(300)), None).unwrap();
    impatient.authenticate().await.unwrap();
    h.sim.set_faults(Faults {
        delay_ms: 1500,
        ..Faults::default()
    });
    let error = impatient.quote(&request).await.unwrap_err();
    assert!(
        matches!(&error, CourierError::Unavailable(m) if m.contains("timeout")),
        "{error}"
    );
    h.sim.set_faults(Faults::default());

    let dead = ViettelPostAdapter::new(config("http://127.0.0.1:1", Duration::from_secs(1)), None)
        .unwrap();
    assert!(matches!(
        dead.authenticate().await,
        Err(CourierError::Unavailable(_))
    ));
}

#[actix_web::test]
async fn webhooks_from_the_simulator_verify_and_parse() {
    let h = start().await;
    let a = adapter(&h);
    let units = units(&a).await;
    let created = a.create_order(&order(&units, "DLV-W1")).await.unwrap();
    let before = chrono::Utc::now().naive_utc();
    let pushed = h
        .sim
        .advance(&created.tracking_number, &[104, 105, 506], Some(36))
        .await
        .unwrap();
    assert!(pushed.iter().all(|(_, code)| *code == 200));
    let bodies = h.hooks.lock().unwrap().clone();
    assert_eq!(bodies.len(), 3);

    let headers = actix_web::http::header::HeaderMap::new();
    let mut events = Vec::new();
    for body in &bodies {
        a.verify_webhook(&headers, body).unwrap();
        events.extend(a.parse_webhook(body).unwrap());
    }
    let states: Vec<_> = events.iter().map(|e| e.state).collect();
    assert_eq!(
        states,
        [
            Some(DeliveryState::AwaitingPickup),
            Some(DeliveryState::PickedUp),
            Some(DeliveryState::DeliveryFailed)
        ]
    );
    let failed = &events[2];
    assert_eq!(failed.reason.as_deref(), Some("consignee_unreachable"));
    assert_eq!(failed.tracking_number, created.tracking_number);
    assert_eq!(failed.reference.as_deref(), Some("DLV-W1"));
    assert!(failed.location.is_some());
    // Sent in Vietnam time, read back as UTC (second precision).
    let skew = failed.occurred_at - before;
    assert!(skew.num_seconds().abs() <= 5, "skew {skew}");

    let mut other = config(&h.base, Duration::from_secs(2));
    other.webhook_token = SecretString::from("another-secret");
    let other = ViettelPostAdapter::new(other, None).unwrap();
    assert!(matches!(
        other.verify_webhook(&headers, &bodies[0]),
        Err(WebhookError::Unauthenticated)
    ));
    assert!(matches!(
        a.verify_webhook(&headers, b"not json"),
        Err(WebhookError::Malformed(_))
    ));
}

#[actix_web::test]
async fn webhook_parses_old_spelling_and_vietnam_time() {
    let h = start().await;
    let a = adapter(&h);
    let body = r#"{"DATA":{"ORDER_NUMBER":"18000000042","ORDER_REFERENCE":"DLV-9",
        "ORDER_STATUSDATE":"01/01/2026 06:30:00","ORDER_STATUS":501,"STATUS_NAME":"Phát thành công",
        "LOCALION_CURRENTLY":"HNI, Bưu cục Ba Đình","NOTE":"","MONEY_COLLECTION":0},"TOKEN":"hook-secret-0333"}"#
        .as_bytes();
    let headers = actix_web::http::header::HeaderMap::new();
    a.verify_webhook(&headers, body).unwrap();
    let events = a.parse_webhook(body).unwrap();
    assert_eq!(events[0].state, Some(DeliveryState::Delivered));
    assert_eq!(events[0].location.as_deref(), Some("HNI, Bưu cục Ba Đình"));
    assert_eq!(events[0].occurred_at.to_string(), "2025-12-31 23:30:00");
    assert!(
        a.tracking_history("18000000042")
            .await
            .is_err_and(|e| matches!(e, CourierError::Unsupported))
    );
}

#[actix_web::test]
async fn simulator_speaks_the_wire_protocol() {
    let h = start().await;
    let http = reqwest::Client::new();
    let url = |path: &str| format!("{}{path}", h.base);
    let envelope = |v: serde_json::Value| {
        (
            v["error"].as_bool(),
            v["message"].as_str().map(str::to_owned),
        )
    };

    let missing: serde_json::Value = http
        .post(url("/v2/order/getPriceAll"))
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        envelope(missing),
        (Some(true), Some("Header Token is required".to_owned()))
    );
    let bad: serde_json::Value = http
        .post(url("/v2/order/createOrder"))
        .header("Token", "forged")
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        envelope(bad),
        (Some(true), Some("Token invalid".to_owned()))
    );
    let login: serde_json::Value = http
        .post(url("/v2/user/Login"))
        .json(&serde_json::json!({"USERNAME": "0912345678", "PASSWORD": "wrong"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        envelope(login),
        (
            Some(true),
            Some("Invalid owner account or password!".to_owned())
        )
    );

    // Control endpoints: a fault set over HTTP, and a parcel advanced over HTTP.
    let a = adapter(&h);
    let units = units(&a).await;
    let created = a.create_order(&order(&units, "DLV-P1")).await.unwrap();
    let answer = http
        .post(url(&format!(
            "/_control/orders/{}/advance",
            created.tracking_number
        )))
        .json(&serde_json::json!({"statuses": [105, 200, 300, 501]}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(h.sim.order_status(&created.tracking_number), Some(501));
    assert_eq!(h.hooks.lock().unwrap().len(), 4);
    http.post(url("/_control/faults"))
        .json(&serde_json::json!({"fail_next": 2}))
        .send()
        .await
        .unwrap();
    let request = quote_request(&units, "Phường Ba Đình", "Phường Ngọc Hà");
    assert!(matches!(
        a.quote(&request).await,
        Err(CourierError::Unavailable(_))
    ));
    assert!(matches!(
        a.quote(&request).await,
        Err(CourierError::Unavailable(_))
    ));
    assert!(a.quote(&request).await.is_ok());
}

#[actix_web::test]
async fn concurrent_calls_after_expiry_renew_once() {
    let h = start().await;
    let a = Arc::new(adapter(&h));
    let units = units(&a).await;
    let request = quote_request(&units, "Phường Ba Đình", "Phường Ngọc Hà");
    a.authenticate().await.unwrap();
    h.sim.expire_tokens();
    let calls = (0..8).map(|_| {
        let (a, request) = (a.clone(), request.clone());
        async move { a.quote(&request).await }
    });
    for result in futures_util::future::join_all(calls).await {
        assert!(result.is_ok());
    }
    // The first login pair, then exactly one renewal pair.
    assert_eq!(h.sim.tokens_issued(), 4);
}
