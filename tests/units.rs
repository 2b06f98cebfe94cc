//! Lookups checked against the official CSVs in `fixtures/admin-units/`.

use std::sync::LazyLock;

use civicpost::units::*;

static UNITS: LazyLock<Units> = LazyLock::new(|| {
    Units::new(UnitsData::load(&FixtureSource::Embedded).expect("embedded fixtures load"))
});

fn u() -> &'static Units {
    &UNITS
}

fn province(code: &str) -> &'static Province {
    u().province(code).expect("province exists")
}

fn ward_code_by_name(province_code: &str, name: &str) -> Result<String, NameMatchError> {
    u().find_ward_by_name(province(province_code), name)
        .map(|w| w.code.clone())
}

fn candidates(old: &str) -> Vec<(String, bool)> {
    let r = u().legacy(old).expect("old code exists");
    r.candidates
        .iter()
        .map(|c| (c.ward.code.clone(), c.partial))
        .collect()
}

#[test]
fn counts() {
    assert_eq!(u().province_count(), 34);
    assert_eq!(u().ward_count(), 3321);
    assert_eq!(u().legacy_link_count(), 10_583);
    assert_eq!(u().polygons().len(), 580);
    let kinds = |k: WardKind| u().wards().iter().filter(|w| w.kind == k).count();
    // 2,621 xã and 687 phường on 1 July 2025; 10 Đồng Nai xã became phường in 2026.
    assert_eq!(
        (
            kinds(WardKind::Xa),
            kinds(WardKind::Phuong),
            kinds(WardKind::DacKhu)
        ),
        (2611, 697, 13)
    );
    assert_eq!(u().wards_in_province("01").count(), 126);
    assert_eq!(u().wards_in_province("79").count(), 168);
    assert_eq!(u().wards_in_province("99").count(), 0);
}

#[test]
fn ward_and_province_by_code() {
    let w = u().ward("00004").unwrap();
    assert_eq!(
        (w.name.as_str(), w.province_code.as_str(), w.kind),
        ("Phường Ba Đình", "01", WardKind::Phuong)
    );
    assert_eq!(u().ward("26732").unwrap().name, "Đặc khu Côn Đảo");
    assert_eq!(u().ward("06970").unwrap().name, "Xã Ba Chẽ");
    assert_eq!(
        u().province_of_ward("26732").unwrap().name,
        "Thành phố Hồ Chí Minh"
    );
    assert_eq!(u().province_of_ward("24184").unwrap().name, "Tỉnh Đắk Lắk");
    assert_eq!(u().province("56").unwrap().name, "Tỉnh Khánh Hòa");
    assert!(u().ward("0004").is_none());
    assert!(u().ward("abcde").is_none());
    assert!(u().ward("99999").is_none());
}

#[test]
fn ia_mo_uses_the_corrected_code() {
    // The annex prints 23737, which is the OLD code of Xã Ia Mơ Nông.
    assert!(u().ward("23737").is_none());
    assert_eq!(u().ward("23938").unwrap().name, "Xã Ia Mơ");
    let r = u().legacy("23737").unwrap();
    assert_eq!(r.old_name, Some("Xã Ia Mơ Nông"));
    assert_eq!(candidates("23737"), vec![("23734".to_owned(), false)]);
}

#[test]
fn split_legacy_wards() {
    let r = u().legacy("00634").unwrap();
    assert!(r.is_split());
    assert_eq!(
        (r.old_name, r.old_district_name),
        (Some("Phường Đại Mỗ"), "Quận Nam Từ Liêm")
    );
    let want: Vec<(String, bool)> = ["00622", "00634", "00637", "09556", "09886"]
        .iter()
        .map(|c| (c.to_string(), true))
        .collect();
    assert_eq!(candidates("00634"), want);
    let want: Vec<(String, bool)> = ["00127", "00136"]
        .iter()
        .map(|c| (c.to_string(), true))
        .collect();
    assert_eq!(candidates("00136"), want);
}

#[test]
fn whole_legacy_wards() {
    let r = u().legacy("00001").unwrap();
    assert!(!r.is_split());
    assert_eq!(r.old_name, Some("Phường Phúc Xá"));
    assert_eq!(r.old_province_name, "Thành phố Hà Nội");
    assert_eq!(candidates("00001"), vec![("00097".to_owned(), false)]);
    assert_eq!(r.candidates[0].ward.name, "Phường Hồng Hà");
    assert_eq!(candidates("00006"), vec![("00008".to_owned(), false)]);
    // Thanh Thủy (Hà Giang) went whole into the new unit of the same code.
    assert_eq!(candidates("00928"), vec![("00928".to_owned(), false)]);
    assert!(u().legacy("99999").is_none());
    assert!(u().legacy("1234").is_none());
}

#[test]
fn code_means_different_places_in_each_era() {
    // New 00175 is Phường Yên Hòa; old 00175 was Phường Trung Hoà, split three ways.
    assert_eq!(u().ward("00175").unwrap().name, "Phường Yên Hòa");
    let old = u().legacy("00175").unwrap();
    assert_eq!(old.old_name, Some("Phường Trung Hoà"));
    let codes: Vec<_> = candidates("00175").into_iter().map(|c| c.0).collect();
    assert_eq!(codes, ["00175", "00367", "00637"]);
    // New 00340 Yên Sở is whole; old 00340 Yên Sở was split into four.
    assert_eq!(candidates("00340").len(), 4);
    match u().lookup("00175").unwrap() {
        LookupAnswer::Code {
            ward: Some(w),
            legacy: Some(l),
            ..
        } => {
            assert_eq!(w.name, "Phường Yên Hòa");
            assert!(l.is_split());
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn district_only_rows() {
    let links: Vec<_> = u()
        .legacy_links()
        .iter()
        .filter(|l| l.old_ward_code.is_none())
        .collect();
    assert_eq!(links.len(), 5);
    assert!(
        links
            .iter()
            .all(|l| l.old_ward_name.is_none() && !l.partial)
    );
    let r = u().legacy("755").unwrap();
    assert_eq!(r.old_district_name, "Huyện Côn Đảo");
    assert_eq!(r.candidates[0].ward.code, "26732");
    assert_eq!(
        u().legacy("498").unwrap().candidates[0].ward.name,
        "Đặc khu Hoàng Sa"
    );
    assert!(u().legacy("001").is_none());
    assert!(u().legacy("").is_none());
}

#[test]
fn tone_mark_and_prefix_variants() {
    for name in [
        "Yên Hòa",
        "Yên Hoà",
        "Phường Yên Hoà",
        "phường  yên hòa",
        "YÊN HOÀ",
        "yen hoa",
    ] {
        assert_eq!(ward_code_by_name("01", name), Ok("00175".into()), "{name}");
    }
    for name in ["Thanh Thủy", "Thanh Thuỷ", "Xã Thanh Thuỷ", "thanh thuy"] {
        assert_eq!(ward_code_by_name("08", name), Ok("00928".into()), "{name}");
    }
    for name in ["Ea H'Leo", "Ea H’Leo", "xã ea h'leo", "Ea HʼLeo"] {
        assert_eq!(ward_code_by_name("66", name), Ok("24184".into()), "{name}");
    }
    assert_eq!(
        ward_code_by_name("01", "Văn Miếu-Quốc Tử Giám").map(|c| c.len()),
        Ok(5)
    );
    // `Xa Dung` starts with the letters of `xã`, which must not be stripped.
    assert_eq!(ward_code_by_name("11", "Xa Dung"), Ok("03208".into()));
    assert_eq!(ward_code_by_name("11", "Xã Xa Dung"), Ok("03208".into()));
    assert_eq!(ward_code_by_name("01", "Ba Đình"), Ok("00004".into()));
}

#[test]
fn dong_is_not_dong() {
    assert_eq!(ward_code_by_name("01", "Sơn Đồng"), Ok("09871".into()));
    assert_eq!(
        ward_code_by_name("01", "Sơn Đông"),
        Err(NameMatchError::NotFound)
    );
    assert_eq!(ward_code_by_name("24", "Đông Phú"), Ok("07450".into()));
    assert_eq!(
        ward_code_by_name("24", "Đồng Phú"),
        Err(NameMatchError::NotFound)
    );
    assert_eq!(
        ward_code_by_name("75", "Đông Phú"),
        Err(NameMatchError::NotFound)
    );
}

#[test]
fn unaccented_names_only_when_unique() {
    // `Thanh Thủy` exists in three provinces; unaccented, it is ambiguous nationwide.
    let all = u().find_wards_by_name("thanh thuy");
    assert_eq!(all.len(), 3);
    match u().lookup("thanh thuy").unwrap() {
        LookupAnswer::Several(ws) => assert_eq!(ws.len(), 3),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(ward_code_by_name("25", "thanh thuy"), Ok("08674".into()));
    assert_eq!(
        ward_code_by_name("01", "no such ward"),
        Err(NameMatchError::NotFound)
    );
}

#[test]
fn dong_nai_later_changes() {
    let p = province("75");
    assert_eq!(
        (p.name.as_str(), p.kind),
        ("Thành phố Đồng Nai", ProvinceKind::ThanhPho)
    );
    assert_eq!(p.name_2025.as_deref(), Some("Tỉnh Đồng Nai"));
    for q in [
        "Tỉnh Đồng Nai",
        "Thành phố Đồng Nai",
        "Đồng Nai",
        "dong nai",
        "75",
    ] {
        assert_eq!(
            u().find_province(q).map(|p| p.code.as_str()),
            Some("75"),
            "{q}"
        );
    }
    let w = u().ward("25363").unwrap();
    assert_eq!(
        (w.name.as_str(), w.kind),
        ("Phường Đồng Phú", WardKind::Phuong)
    );
    assert_eq!(w.name_2025.as_deref(), Some("Xã Đồng Phú"));
    assert_eq!(ward_code_by_name("75", "Xã Đồng Phú"), Ok("25363".into()));
    assert_eq!(
        ward_code_by_name("75", "Phường Đồng Phú"),
        Ok("25363".into())
    );
}

#[test]
fn provinces_by_name() {
    let code = |q: &str| u().find_province(q).map(|p| p.code.clone());
    assert_eq!(code("01"), Some("01".into()));
    assert_eq!(code("Hà Nội"), Some("01".into()));
    assert_eq!(code("Thành phố Hà Nội"), Some("01".into()));
    assert_eq!(code("ha noi"), Some("01".into()));
    assert_eq!(code("TP Hồ Chí Minh"), Some("79".into()));
    assert_eq!(code("TP.HCM"), Some("79".into()));
    assert_eq!(code("Khánh Hoà"), Some("56".into()));
    assert_eq!(code("Thanh Hoá"), Some("38".into()));
    assert_eq!(code("Atlantis"), None);
    assert_eq!(code("00"), None);
}

fn located(lat: f64, lon: f64) -> (String, Precision) {
    let l = u().locate(lat, lon).unwrap();
    (l.ward.code.clone(), l.precision)
}

#[test]
fn points_inside_polygon_wards() {
    // Interior points computed from the polygons (not the centroids).
    let cases = [
        (21.039441, 105.836364, "00004"), // Ba Đình, Hà Nội
        (20.960331, 106.326255, "10507"), // Thành Đông, Hải Phòng
        (17.495381, 106.589081, "18859"), // Đồng Thuận, Quảng Trị
        (16.124501, 107.989399, "20194"), // Hải Vân, Đà Nẵng
        (16.348381, 112.023123, "20333"), // Hoàng Sa, Đà Nẵng
        (10.968216, 106.664286, "25747"), // Thủ Dầu Một, Hồ Chí Minh
        (8.700196, 106.606058, "26732"),  // Côn Đảo, Hồ Chí Minh
    ];
    for (lat, lon, code) in cases {
        assert_eq!(
            located(lat, lon),
            (code.to_owned(), Precision::Polygon),
            "{lat},{lon}"
        );
    }
}

#[test]
fn point_elsewhere_uses_nearest_centroid() {
    // Centroid of Xã Đàm Thủy (Cao Bằng, no polygons in the fixtures).
    let (code, precision) = located(22.833186, 106.651169);
    assert_eq!(code, "01501");
    assert!(matches!(precision, Precision::NearestCentroid { distance_m } if distance_m < 1.0));
    assert_eq!(
        u().locate(22.833186, 106.651169).unwrap().province.code,
        "04"
    );
}

#[test]
fn points_just_outside_polygons() {
    // 11 m north of Hoàng Sa's northernmost reef vertex (111.52625, 17.12028): no polygon
    // contains it, but it is within snapping distance.
    let (code, precision) = located(17.12038, 111.52625);
    assert_eq!(code, "20333");
    assert!(
        matches!(precision, Precision::NearPolygon { distance_m } if (5.0..20.0).contains(&distance_m))
    );
    // 2 km farther out nothing snaps, and Hoàng Sa's centroid is 94 km away: the 60 km
    // centroid rule calls it outside Vietnam although the reef itself is a ward.
    assert!(matches!(
        u().locate(17.14, 111.52625),
        Err(LocateError::OutsideVietnam { .. })
    ));
    // A point in Côn Đảo waters ~450 m off the coast falls back to a centroid.
    assert!(matches!(
        located(8.64, 106.55).1,
        Precision::NearestCentroid { .. }
    ));
}

#[test]
fn invalid_and_far_points() {
    let invalid = |lat: f64, lon: f64| match u().locate(lat, lon) {
        Err(LocateError::InvalidCoordinates { which, .. }) => which,
        other => panic!("unexpected {other:?}"),
    };
    assert_eq!(invalid(f64::NAN, 105.0), "latitude");
    assert_eq!(invalid(91.0, 105.0), "latitude");
    assert_eq!(invalid(21.0, f64::INFINITY), "longitude");
    assert_eq!(invalid(21.0, -180.5), "longitude");
    assert!(matches!(
        u().locate(18.0, 114.0),
        Err(LocateError::OutsideVietnam { .. })
    ));
    assert!(matches!(
        u().locate(48.85, 2.35),
        Err(LocateError::OutsideVietnam { .. })
    ));
}

#[test]
fn lookup_queries() {
    assert!(
        matches!(u().lookup("00004"), Ok(LookupAnswer::Code { ward: Some(w), legacy: Some(_), .. }) if w.name == "Phường Ba Đình")
    );
    assert!(matches!(
        u().lookup("23737"),
        Ok(LookupAnswer::Code {
            ward: None,
            legacy: Some(_),
            ..
        })
    ));
    assert!(matches!(
        u().lookup("99999"),
        Err(LookupError::UnknownCode(_))
    ));
    assert!(
        matches!(u().lookup("21.039441, 105.836364"), Ok(LookupAnswer::Located(l)) if l.ward.code == "00004")
    );
    assert!(
        matches!(u().lookup("Ba Đình, Hà Nội"), Ok(LookupAnswer::Ward { ward, .. }) if ward.code == "00004")
    );
    assert!(
        matches!(u().lookup("Phường Yên Hoà, TP Hà Nội"), Ok(LookupAnswer::Ward { ward, .. }) if ward.code == "00175")
    );
    assert!(matches!(
        u().lookup("Ba Đình, Atlantis"),
        Err(LookupError::UnknownProvince(_))
    ));
    assert!(
        matches!(u().lookup("Côn Đảo"), Ok(LookupAnswer::Ward { ward, .. }) if ward.code == "26732")
    );
    assert!(matches!(u().lookup("Tân An"), Ok(LookupAnswer::Several(ws)) if ws.len() == 10));
    assert!(matches!(u().lookup("  "), Err(LookupError::Empty)));
    assert!(matches!(u().lookup("91,0"), Err(LookupError::Locate(_))));
}

#[test]
fn every_new_code_that_is_also_old_keeps_part_of_that_old_ward() {
    // Each new unit took the code of one of its constituents.
    let shared: Vec<_> = u()
        .wards()
        .iter()
        .filter(|w| u().legacy(&w.code).is_some())
        .collect();
    assert_eq!(shared.len(), 3316);
    for w in shared {
        let r = u().legacy(&w.code).unwrap();
        assert!(
            r.candidates.iter().any(|c| c.ward.code == w.code),
            "{}",
            w.code
        );
    }
}

#[test]
fn corrupt_fixtures_name_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/admin-units");
    for f in [
        "provinces.csv",
        "units.csv",
        "later-changes.csv",
        "ward-mapping-2025.csv",
        "ward-polygons.txt",
    ] {
        std::fs::copy(format!("{src}/{f}"), dir.path().join(f)).unwrap();
    }
    let units = std::fs::read_to_string(dir.path().join("units.csv")).unwrap();
    let mut lines: Vec<String> = units.lines().map(str::to_owned).collect();
    assert!(lines[16].contains(",00190,"));
    lines[16] = lines[16].replace(",00190,", ",12a45,");
    std::fs::write(dir.path().join("units.csv"), lines.join("\n")).unwrap();
    let err = UnitsData::load(&FixtureSource::Dir(dir.path().to_path_buf())).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"units.csv line 17: ward_code "12a45" is not 5 digits"#
    );
    assert!(matches!(
        err,
        FixtureError::Line {
            file: "units.csv",
            line: 17,
            ..
        }
    ));
}

#[test]
fn corrupt_mapping_target() {
    let dir = std::env::temp_dir().join(format!("civicpost-units-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/admin-units");
    for f in [
        "provinces.csv",
        "units.csv",
        "later-changes.csv",
        "ward-polygons.txt",
    ] {
        std::fs::copy(format!("{src}/{f}"), dir.join(f)).unwrap();
    }
    let mapping = std::fs::read_to_string(format!("{src}/ward-mapping-2025.csv")).unwrap();
    std::fs::write(
        dir.join("ward-mapping-2025.csv"),
        mapping.replacen(",00097,01,0", ",00098,01,0", 1),
    )
    .unwrap();
    let err = UnitsData::load(&FixtureSource::Dir(dir.clone()))
        .unwrap_err()
        .to_string();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(
        err,
        "ward-mapping-2025.csv line 2: new_ward_code \"00098\" is not in units.csv"
    );
}
