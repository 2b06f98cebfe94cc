//! The simulator's fixed data: status names, parcel numbers, tariff. The address lists are
//! in `sim_units`.

use serde_json::Value;

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
}
