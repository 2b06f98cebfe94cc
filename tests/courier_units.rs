//! The courier unit sync end to end: the adapters fetch the simulators' address lists over
//! HTTP (mounted in the test server, as in sandbox mode), the matcher maps them onto the
//! official wards, and the mapping lands in the database.

mod common;

use civicpost::couriers::sync_units::{self, SyncError, SyncReport, Unmatched};
use civicpost::domain::courier::Courier;
use civicpost::store::courier_units::{self, CourierUnitMapping};
use common::TestApp;

const OFFICIAL_WARDS: usize = 3_321;

async fn mapping(
    app: &TestApp,
    courier: Courier,
    ward: &'static str,
) -> Option<CourierUnitMapping> {
    app.query(move |conn| courier_units::find(conn, courier, ward))
        .await
}

async fn stored(app: &TestApp, courier: Courier) -> i64 {
    app.query(move |conn| courier_units::count(conn, courier))
        .await
}

fn unmatched_names(report: &SyncReport) -> Vec<(&str, &Unmatched)> {
    report
        .unmatched_units
        .iter()
        .map(|u| (u.unit.ward_name.as_str(), &u.reason))
        .collect()
}

fn unmatched_codes(report: &SyncReport) -> Vec<&str> {
    report
        .unmatched_wards
        .iter()
        .map(|w| w.code.as_str())
        .collect()
}

fn no_such_ward(province: &str) -> Unmatched {
    Unmatched::NoSuchWard {
        province_code: province.into(),
    }
}

#[tokio::test]
async fn viettelpost_maps_the_whole_map_and_reports_its_quirks() {
    let app = TestApp::spawn().await;
    let report = sync_units::sync(&app.state, Courier::Viettelpost)
        .await
        .unwrap();
    assert_eq!(report.listed, OFFICIAL_WARDS);
    assert_eq!(report.matched, OFFICIAL_WARDS - 2);
    assert_eq!(
        unmatched_names(&report),
        [
            ("PHƯỜNG PHÚC XÁ", &no_such_ward("01")),
            ("XÃ ĐẮK HÀ", &no_such_ward("51")),
        ]
    );
    assert_eq!(unmatched_codes(&report), ["20333", "23500"]);
    assert_eq!(report.unmatched_wards[0].name, "Đặc khu Hoàng Sa");
    assert_eq!(stored(&app, Courier::Viettelpost).await, 3_319);

    let ba_dinh = mapping(&app, Courier::Viettelpost, "00004").await.unwrap();
    let listed = app
        .state
        .couriers
        .adapter(Courier::Viettelpost)
        .unwrap()
        .address_units()
        .await
        .unwrap();
    let unit = listed
        .iter()
        .find(|u| u.ward_name == "PHƯỜNG BA ĐÌNH")
        .unwrap();
    assert_eq!(ba_dinh.courier, "viettelpost");
    assert_eq!(ba_dinh.courier_ward_id, unit.ward_id);
    assert_ne!(ba_dinh.courier_ward_id, "00004");
    assert_eq!(ba_dinh.courier_province_id, "1");
    assert_eq!(ba_dinh.courier_district_id.as_deref(), Some("100000001"));
    assert_eq!(ba_dinh.courier_ward_name, "PHƯỜNG BA ĐÌNH");
    // Thủ Dầu Một moved into HCMC (VTP province 2) with the 2025 merger.
    let tdm = mapping(&app, Courier::Viettelpost, "25747").await.unwrap();
    assert_eq!(tdm.courier_province_id, "2");
    assert!(mapping(&app, Courier::Viettelpost, "20333").await.is_none());
    assert!(mapping(&app, Courier::Vnpost, "00004").await.is_none());
    app.stop().await;
}

#[tokio::test]
async fn vnpost_maps_the_whole_map_and_reports_its_quirks() {
    let app = TestApp::spawn().await;
    let report = sync_units::sync(&app.state, Courier::Vnpost).await.unwrap();
    assert_eq!(report.listed, OFFICIAL_WARDS);
    assert_eq!(report.matched, OFFICIAL_WARDS - 2);
    assert_eq!(
        unmatched_names(&report),
        [
            ("Xã Quí Lộc", &no_such_ward("38")),
            ("Phường Bến Nghé", &no_such_ward("79")),
        ]
    );
    assert_eq!(unmatched_codes(&report), ["15412", "22736"]);
    assert_eq!(stored(&app, Courier::Vnpost).await, 3_319);

    let ba_dinh = mapping(&app, Courier::Vnpost, "00004").await.unwrap();
    assert_eq!(
        (
            ba_dinh.courier_province_id.as_str(),
            ba_dinh.courier_district_id,
            ba_dinh.courier_ward_id.as_str()
        ),
        ("10", None, "10101")
    );
    // Listed as `Xã Lộc Ninh`, its name until the 2026 change: matched all the same.
    let loc_ninh = mapping(&app, Courier::Vnpost, "25270").await.unwrap();
    assert_eq!(loc_ninh.courier_ward_name, "Xã Lộc Ninh");
    // Listed with the newer tone placement (`Hoà`), matched by name key.
    let hoa_khanh = mapping(&app, Courier::Vnpost, "20200").await.unwrap();
    assert_eq!(hoa_khanh.courier_ward_name, "Phường Hoà Khánh");
    app.stop().await;
}

#[tokio::test]
async fn a_second_sync_replaces_the_mapping_instead_of_adding_to_it() {
    let app = TestApp::spawn().await;
    sync_units::sync(&app.state, Courier::Vnpost).await.unwrap();
    sync_units::sync(&app.state, Courier::Viettelpost)
        .await
        .unwrap();
    // A stale mapping: one ward left, with an id the courier no longer uses.
    let mut stale = mapping(&app, Courier::Vnpost, "00004").await.unwrap();
    stale.courier_ward_id = "19999".into();
    app.query(move |conn| courier_units::replace_all(conn, Courier::Vnpost, &[stale]))
        .await;
    assert_eq!(stored(&app, Courier::Vnpost).await, 1);

    let again = sync_units::sync(&app.state, Courier::Vnpost).await.unwrap();
    assert_eq!(again.matched, 3_319);
    assert_eq!(stored(&app, Courier::Vnpost).await, 3_319);
    let ba_dinh = mapping(&app, Courier::Vnpost, "00004").await.unwrap();
    assert_eq!(ba_dinh.courier_ward_id, "10101");
    // The other courier's mapping is its own.
    assert_eq!(stored(&app, Courier::Viettelpost).await, 3_319);
    app.stop().await;
}

#[tokio::test]
async fn first_run_syncs_only_couriers_without_a_mapping() {
    let app = TestApp::spawn().await;
    sync_units::sync(&app.state, Courier::Vnpost).await.unwrap();
    let done = sync_units::sync_if_empty(&app.state).await;
    assert_eq!(done.len(), 1, "VNPost already had a mapping");
    assert_eq!(done[0].0, Courier::Viettelpost);
    assert_eq!(done[0].1.as_ref().unwrap().matched, 3_319);
    assert!(sync_units::sync_if_empty(&app.state).await.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn an_unreachable_courier_fails_and_leaves_the_mapping_alone() {
    let app = TestApp::spawn_with(serde_json::json!({
        "couriers": {"viettelpost": {"base_url": "http://127.0.0.1:9"}},
    }))
    .await;
    let err = sync_units::sync(&app.state, Courier::Viettelpost)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            SyncError::Courier {
                courier: Courier::Viettelpost,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(stored(&app, Courier::Viettelpost).await, 0);
    app.stop().await;

    let app = TestApp::spawn_without_sandbox().await;
    let err = sync_units::sync(&app.state, Courier::Vnpost)
        .await
        .unwrap_err();
    assert!(
        matches!(err, SyncError::NotEnabled(Courier::Vnpost)),
        "{err}"
    );
    assert!(sync_units::sync_if_empty(&app.state).await.is_empty());
    app.stop().await;
}
