use super::*;
use crate::units::{ProvinceKind, WardKind};

fn province(code: &str, name: &str) -> Province {
    Province {
        code: code.into(),
        name: name.into(),
        kind: ProvinceKind::Tinh,
        lat: 0.0,
        lon: 0.0,
        name_2025: None,
    }
}

fn ward(code: &str, province_code: &str, name: &str) -> Ward {
    Ward {
        code: code.into(),
        province_code: province_code.into(),
        name: name.into(),
        kind: WardKind::Xa,
        lat: 0.0,
        lon: 0.0,
        area_km2: 1.0,
        name_2025: None,
    }
}

fn unit(province_id: &str, province_name: &str, ward_id: &str, ward_name: &str) -> CourierUnit {
    CourierUnit {
        province_id: province_id.into(),
        province_name: province_name.into(),
        district_id: None,
        ward_id: ward_id.into(),
        ward_name: ward_name.into(),
    }
}

/// Two provinces that share ward names, as real ones do.
fn official() -> (Vec<Province>, Vec<Ward>) {
    let provinces = vec![
        province("56", "Tỉnh Khánh Hòa"),
        province("79", "Thành phố Hồ Chí Minh"),
    ];
    let wards = vec![
        ward("22333", "56", "Phường Nha Trang"),
        ward("22334", "56", "Xã Hòa Thắng"),
        ward("22335", "56", "Phường Bình Kiến"),
        ward("22336", "56", "Xã Bình Kiến"),
        ward("26734", "79", "Phường Sài Gòn"),
        ward("26735", "79", "Xã Hòa Thắng"),
        ward("26736", "79", "Xã Thủy Đông"),
    ];
    (provinces, wards)
}

fn matched_codes(outcome: &MatchOutcome) -> Vec<(&str, &str)> {
    outcome
        .matched
        .iter()
        .map(|m| (m.unit.ward_id.as_str(), m.ward_code.as_str()))
        .collect()
}

#[test]
fn case_tone_placement_and_province_type_words_do_not_matter() {
    let (provinces, wards) = official();
    let units = vec![
        unit("42", "Khánh Hoà", "1", "XÃ HOÀ THẮNG"),
        unit("2", "TP. Hồ Chí Minh", "2", "xã thuỷ đông"),
        unit("2", "Hồ Chí Minh", "3", "PHƯỜNG SÀI GÒN"),
    ];
    let outcome = match_units(units, &provinces, &wards);
    assert_eq!(
        matched_codes(&outcome),
        [("1", "22334"), ("2", "26736"), ("3", "26734")]
    );
    assert!(outcome.unmatched_units.is_empty());
}

#[test]
fn a_missing_or_other_type_word_still_matches_when_only_one_ward_fits() {
    let (provinces, wards) = official();
    let units = vec![
        unit("42", "Khánh Hòa", "1", "Nha Trang"),
        unit("42", "Khánh Hòa", "2", "Thị trấn Hòa Thắng"),
        unit("2", "Hồ Chí Minh", "3", "Sài Gòn"),
    ];
    let outcome = match_units(units, &provinces, &wards);
    assert_eq!(
        matched_codes(&outcome),
        [("1", "22333"), ("2", "22334"), ("3", "26734")]
    );
}

#[test]
fn the_full_name_decides_between_a_phuong_and_a_xa_of_one_name() {
    let (provinces, wards) = official();
    let units = vec![
        unit("42", "Khánh Hòa", "1", "PHƯỜNG BÌNH KIẾN"),
        unit("42", "Khánh Hòa", "2", "XÃ BÌNH KIẾN"),
    ];
    let outcome = match_units(units, &provinces, &wards);
    assert_eq!(matched_codes(&outcome), [("1", "22335"), ("2", "22336")]);
}

#[test]
fn a_name_that_fits_several_wards_is_left_unmatched() {
    let (provinces, wards) = official();
    let units = vec![unit("42", "Khánh Hòa", "1", "Bình Kiến")];
    let outcome = match_units(units, &provinces, &wards);
    assert!(outcome.matched.is_empty());
    assert_eq!(
        outcome.unmatched_units[0].reason,
        Unmatched::Ambiguous {
            ward_codes: vec!["22335".into(), "22336".into()]
        }
    );
    let left: Vec<&str> = outcome
        .unmatched_wards
        .iter()
        .map(|w| w.code.as_str())
        .collect();
    assert!(left.contains(&"22335") && left.contains(&"22336"));
}

#[test]
fn never_matches_across_provinces() {
    let (provinces, wards) = official();
    // Xã Thủy Đông exists only in HCMC; Khánh Hòa's list must not take it.
    let units = vec![unit("42", "Khánh Hòa", "1", "Xã Thủy Đông")];
    let outcome = match_units(units, &provinces, &wards);
    assert!(outcome.matched.is_empty());
    assert_eq!(
        outcome.unmatched_units[0].reason,
        Unmatched::NoSuchWard {
            province_code: "56".into()
        }
    );
    // The same name in two provinces goes to the ward of the unit's own province.
    let units = vec![unit("2", "Hồ Chí Minh", "9", "Xã Hòa Thắng")];
    let outcome = match_units(units, &provinces, &wards);
    assert_eq!(matched_codes(&outcome), [("9", "26735")]);
}

#[test]
fn an_unknown_province_matches_nothing() {
    let (provinces, wards) = official();
    let units = vec![unit("99", "Daklak", "1", "Xã Hòa Thắng")];
    let outcome = match_units(units, &provinces, &wards);
    assert!(outcome.matched.is_empty());
    assert_eq!(outcome.unmatched_units[0].reason, Unmatched::Province);
    assert_eq!(outcome.unmatched_wards.len(), wards.len());
}

#[test]
fn two_units_on_one_ward_are_both_left_out() {
    let (provinces, wards) = official();
    let units = vec![
        unit("2", "Hồ Chí Minh", "1", "Phường Sài Gòn"),
        unit("2", "Hồ Chí Minh", "2", "Sài Gòn"),
    ];
    let outcome = match_units(units, &provinces, &wards);
    assert!(outcome.matched.is_empty());
    assert!(outcome.unmatched_units.iter().all(|u| u.reason
        == Unmatched::SharedWard {
            ward_code: "26734".into()
        }));
    assert!(outcome.unmatched_wards.iter().any(|w| w.code == "26734"));
}

#[test]
fn names_of_july_2025_match_renamed_units() {
    let mut provinces = vec![province("75", "Thành phố Đồng Nai")];
    provinces[0].name_2025 = Some("Tỉnh Đồng Nai".into());
    let mut wards = vec![
        ward("25270", "75", "Phường Lộc Ninh"),
        ward("25271", "75", "Phường Lộc Hưng"),
    ];
    wards[0].name_2025 = Some("Xã Lộc Ninh".into());
    let units = vec![
        unit("76", "Tỉnh Đồng Nai", "1", "Xã Lộc Ninh"),
        unit("76", "Tỉnh Đồng Nai", "2", "Phường Lộc Hưng"),
    ];
    let outcome = match_units(units, &provinces, &wards);
    assert_eq!(matched_codes(&outcome), [("1", "25270"), ("2", "25271")]);
    assert!(outcome.unmatched_wards.is_empty());
}

#[test]
fn reports_both_sides_of_a_spelling_difference() {
    let (provinces, wards) = official();
    let units = vec![unit("2", "Hồ Chí Minh", "7", "Xã Thuỷ Đong")];
    let outcome = match_units(units, &provinces, &wards);
    assert_eq!(outcome.unmatched_units.len(), 1);
    assert_eq!(outcome.unmatched_units[0].unit.ward_id, "7");
    let left: Vec<(&str, &str, &str)> = outcome
        .unmatched_wards
        .iter()
        .map(|w| (w.code.as_str(), w.name.as_str(), w.province_name.as_str()))
        .collect();
    assert!(left.contains(&("26736", "Xã Thủy Đông", "Thành phố Hồ Chí Minh")));
    assert_eq!(left.len(), wards.len());
}
