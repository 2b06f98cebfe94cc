//! The simulator's fixed data: its address list and status names.
//!
//! VNPost uses its own postal-prefix ids, not GSO codes (couriers.md §2A), so the simulator
//! does too: provinces `10` (Hà Nội), `70` (HCMC), `94` (Cần Thơ) and five-digit commune ids
//! under them. Ward names are the official ones of `fixtures/admin-units/units.csv`, so the
//! unit-mapping job can match them by name.

use serde_json::Value;

pub struct SimProvince {
    pub code: &'static str,
    pub name: &'static str,
}

pub struct SimCommune {
    pub code: &'static str,
    pub name: &'static str,
    pub province_code: &'static str,
}

pub const PROVINCES: [SimProvince; 3] = [
    SimProvince {
        code: "10",
        name: "Thành phố Hà Nội",
    },
    SimProvince {
        code: "70",
        name: "Thành phố Hồ Chí Minh",
    },
    SimProvince {
        code: "94",
        name: "Thành phố Cần Thơ",
    },
];

const fn commune(
    code: &'static str,
    name: &'static str,
    province_code: &'static str,
) -> SimCommune {
    SimCommune {
        code,
        name,
        province_code,
    }
}

pub const COMMUNES: [SimCommune; 11] = [
    commune("10101", "Phường Ba Đình", "10"),
    commune("10102", "Phường Ngọc Hà", "10"),
    commune("10103", "Phường Giảng Võ", "10"),
    commune("11001", "Phường Hoàn Kiếm", "10"),
    commune("70101", "Phường Tân Bình", "70"),
    commune("70102", "Phường Vĩnh Hội", "70"),
    commune("70103", "Phường Đông Hưng Thuận", "70"),
    commune("73001", "Xã Bình Mỹ", "70"),
    commune("94101", "Phường Phước Thới", "94"),
    commune("94102", "Phường Long Phú 1", "94"),
    commune("94201", "Xã Nhơn Ái", "94"),
];

pub fn commune_known(code: &str) -> bool {
    COMMUNES.iter().any(|c| c.code == code)
}

/// Names of the current API's status codes (couriers.md §2A).
pub fn status_name(code: i64) -> &'static str {
    match code {
        0 => "Lưu nháp",
        1 => "Đã tạo",
        2 => "Bưu tá nhận yêu cầu thu gom",
        3 => "Chờ xác nhận",
        4 => "Đang lấy hàng",
        5 => "Lấy hàng không thành công",
        6 => "Đã lấy hàng",
        7 => "Bưu cục đã nhận hàng",
        8 => "Lấy hàng thất bại",
        9 => "Hủy thu gom",
        10 => "Đang vận chuyển",
        11 => "Đã đến bưu cục phát",
        12 => "Đang giao hàng",
        13 => "Chuyển tiếp",
        14 => "Đã giao hàng",
        15 => "Giao không thành công",
        16 => "Chờ để chuyển hoàn",
        17 => "Đã duyệt hoàn",
        18 => "Bắt đầu chuyển hoàn",
        19 => "Trả hàng thành công",
        20 => "Đã trả hàng một phần",
        21 => "Đã trả tiền COD",
        22 => "Hủy giao hàng",
        23 => "Giao hàng thành công một phần",
        24 => "Đang chuyển hoàn",
        28 => "Đã trả phí ship",
        29 => "Đã trả phí hủy đơn hàng",
        _ => "Không xác định",
    }
}

/// A UPU S10 parcel number as VNPost issues them (`EL` + 8 digits + check digit + `VN`).
pub fn item_code(serial: u32) -> String {
    let digits = format!("{:08}", serial % 100_000_000);
    const WEIGHTS: [u32; 8] = [8, 6, 4, 2, 3, 5, 9, 7];
    let sum: u32 = digits
        .bytes()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    let check = match 11 - sum % 11 {
        10 => 0,
        11 => 5,
        c => c,
    };
    format!("EL{digits}{check}VN")
}

pub fn cod_amount(info: &Value) -> i64 {
    info.get("addonService")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|a| a.get("code").and_then(Value::as_str) == Some("GTG021"))
        .filter_map(|a| a.get("propValue").and_then(Value::as_str))
        .flat_map(|p| p.split(';'))
        .find_map(|p| p.strip_prefix("PROP0018:")?.parse().ok())
        .unwrap_or(0)
}

/// A made-up tariff: a base per service plus a step per started 500 g over the first 500 g.
pub fn fee(service: &str, weight: i64) -> i64 {
    let (base, step) = if service == "ETN011" {
        (32_000, 8_000)
    } else {
        (22_000, 5_000)
    };
    base + step * ((weight.max(1) - 1) / 500)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_codes_carry_the_s10_check_digit() {
        // 4·8+7·6+3·4+1·2+2·3+4·5+8·9+2·7 = 200; 200 mod 11 = 2; 11 − 2 = 9.
        assert_eq!(item_code(47_312_482), "EL473124829VN");
        // Remainder 1 gives 10, written 0; remainder 0 gives 11, written 5.
        assert!(item_code(0).ends_with("5VN"));
        assert_eq!(item_code(1).len(), 13);
    }

    #[test]
    fn ward_names_are_official() {
        let csv = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/admin-units/units.csv"
        ))
        .unwrap();
        for c in &COMMUNES {
            let province = PROVINCES
                .iter()
                .find(|p| p.code == c.province_code)
                .unwrap();
            let row = format!("{},", province.name);
            assert!(
                csv.lines()
                    .any(|l| l.contains(&row) && l.split(',').nth(3) == Some(c.name)),
                "{} not in units.csv under {}",
                c.name,
                province.name
            );
        }
    }
}
