//! Plain Vietnamese for citizens: what each state means, why an attempt failed, and what to
//! do next. Words a citizen would use, not courier jargon.

use crate::domain::state::DeliveryState;
use crate::domain::tracking::{CODE_LEN, TrackingCodeError};

/// A short label and one sentence about the state.
pub fn state(state: DeliveryState) -> (&'static str, &'static str) {
    use DeliveryState::*;
    match state {
        Received => (
            "Đã tiếp nhận",
            "Kết quả đã sẵn sàng và đang chờ bàn giao cho đơn vị bưu chính.",
        ),
        AwaitingPickup => (
            "Chờ bưu chính đến lấy",
            "Đơn vị bưu chính đã nhận yêu cầu và sẽ đến lấy kết quả tại cơ quan trả kết quả.",
        ),
        PickedUp => (
            "Bưu chính đã nhận bưu gửi",
            "Bưu gửi đã được giao cho đơn vị bưu chính.",
        ),
        InTransit => (
            "Đang vận chuyển",
            "Bưu gửi đang trên đường đến bưu cục gần nơi bạn ở.",
        ),
        OutForDelivery => (
            "Đang giao đến bạn",
            "Bưu tá đang mang bưu gửi đến địa chỉ của bạn. Vui lòng để ý điện thoại.",
        ),
        Delivered => ("Đã giao thành công", "Bưu gửi đã được giao."),
        DeliveryFailed => (
            "Giao chưa thành công",
            "Bưu tá chưa giao được bưu gửi và sẽ giao lại.",
        ),
        ReadyForPickup => (
            "Chờ bạn đến nhận tại bưu cục",
            "Bưu gửi đang được giữ tại bưu cục để bạn đến nhận.",
        ),
        OnHold => (
            "Tạm dừng để xử lý",
            "Bưu gửi đang tạm dừng, cần xác minh thêm (ví dụ địa chỉ nhận).",
        ),
        Returning => (
            "Đang chuyển trả",
            "Bưu gửi đang được gửi trả lại cơ quan trả kết quả.",
        ),
        Returned => (
            "Đã trả lại cơ quan",
            "Bưu gửi đã được trả lại cơ quan trả kết quả.",
        ),
        Cancelled => (
            "Đã hủy gửi qua bưu chính",
            "Việc gửi kết quả qua bưu chính đã được hủy.",
        ),
        Lost => (
            "Thất lạc",
            "Bưu gửi bị thất lạc trong quá trình vận chuyển.",
        ),
        // The operator's problem, not the citizen's: nothing for them to do yet.
        DispatchFailed => (
            "Đang sắp xếp đơn vị bưu chính",
            "Cơ quan đang sắp xếp lại việc gửi; bạn chưa cần làm gì.",
        ),
    }
}

/// The reason vocabulary of couriers.md §4, for citizens. Anything else (an agency's free
/// text, an operator's note) is not shown: it may carry details that are not public.
pub fn reason(code: &str) -> Option<&'static str> {
    Some(match code {
        "consignee_not_home" => "Người nhận vắng nhà",
        "consignee_unreachable" => "Không liên lạc được với người nhận",
        "consignee_rescheduled" => "Người nhận hẹn giao lại",
        "consignee_refused" => "Người nhận từ chối nhận",
        "consignee_collects_at_office" => "Người nhận sẽ tự đến bưu cục nhận",
        "incorrect_address" => "Địa chỉ nhận chưa chính xác",
        "carrier_rescheduled" => "Bưu tá hẹn giao lại",
        "sender_requested_return" => "Cơ quan gửi yêu cầu trả lại",
        "repeated_failures" => "Đã giao nhiều lần không thành công",
        "carrier_parcel_lost" => "Bưu gửi bị thất lạc",
        "carrier_damaged_parcel" => "Bưu gửi bị hư hỏng",
        _ => return None,
    })
}

/// What the citizen should do now, when there is something to do.
pub fn advice(
    state: DeliveryState,
    reason: Option<&str>,
    place: Option<&str>,
    code: &str,
    agency: &str,
) -> Option<String> {
    use DeliveryState::*;
    let bring = format!(
        "mang theo căn cước (CCCD) hoặc giấy tờ tùy thân có ảnh và mã tra cứu {code}; \
         nếu nhận thay, mang thêm giấy ủy quyền và giấy tờ của người nhận thay"
    );
    let at = place.map(|p| format!(" ({p})")).unwrap_or_default();
    match state {
        OutForDelivery => Some(
            "Giữ điện thoại liên lạc được; bưu tá có thể gọi trước khi đến. Khi nhận, chuẩn bị \
             giấy tờ tùy thân và số tiền phải trả (nếu có)."
                .to_owned(),
        ),
        DeliveryFailed if reason == Some("incorrect_address") => Some(format!(
            "Địa chỉ nhận cần được bổ sung: liên hệ bưu cục phát{at} hoặc {agency}. \
             Bạn cũng có thể tự đến bưu cục nhận: {bring}."
        )),
        DeliveryFailed => Some(format!(
            "Bưu tá sẽ giao lại. Giữ điện thoại liên lạc được và nghe máy khi bưu cục gọi. \
             Nếu muốn tự đến bưu cục phát{at} nhận: {bring}."
        )),
        ReadyForPickup => Some(format!(
            "Đến bưu cục{at} trong giờ làm việc, {bring}. Bưu gửi chỉ được giữ trong thời gian \
             có hạn, sau đó sẽ được trả lại cơ quan."
        )),
        OnHold => Some(format!(
            "Đơn vị bưu chính có thể gọi để xác minh; hãy nghe máy. Nếu cần, liên hệ {agency}."
        )),
        Returning | Returned => Some(format!(
            "Liên hệ {agency} để được gửi lại hoặc đến nhận trực tiếp."
        )),
        Cancelled => Some(format!("Liên hệ {agency} để biết cách nhận kết quả.")),
        Lost => Some(format!(
            "{agency} và đơn vị bưu chính sẽ liên hệ với bạn; bưu gửi thất lạc được bồi thường \
             theo pháp luật về bưu chính."
        )),
        _ => None,
    }
}

/// Why a typed code is not a tracking code, told apart: a typo the check character caught is
/// not the same as a code that was never issued.
pub fn code_error(err: &TrackingCodeError) -> String {
    match err {
        TrackingCodeError::Length(n) => format!(
            "Mã tra cứu gồm {CODE_LEN} ký tự (ví dụ K7RM-2XQ9-H4); mã bạn nhập có {n} ký tự. \
             Vui lòng kiểm tra lại."
        ),
        TrackingCodeError::Character(c) => format!(
            "Mã tra cứu không có ký tự “{c}”: mã chỉ gồm các chữ số từ 2 đến 9 và chữ cái \
             (không có 0, 1, I, L, O, S, Z). Vui lòng kiểm tra lại."
        ),
        TrackingCodeError::Checksum => "Mã tra cứu có lỗi đánh máy: một ký tự bị gõ sai hoặc \
             hai ký tự cạnh nhau bị đổi chỗ. Vui lòng so lại từng ký tự với tin nhắn hoặc \
             giấy hẹn."
            .to_owned(),
    }
}

/// A well-formed code that no delivery has.
pub fn unknown_code(display: &str) -> String {
    format!(
        "Không tìm thấy bưu gửi có mã {display}. Mã đúng định dạng nhưng chưa có trong hệ thống: \
         nếu bạn vừa nhận mã, hãy thử lại sau ít phút, hoặc liên hệ nơi trả kết quả."
    )
}

/// Dossier code and phone digits that match nothing: the same words whichever part was wrong.
pub const DOSSIER_NOT_FOUND: &str = "Không tìm thấy hồ sơ khớp với mã hồ sơ và 4 số cuối điện \
     thoại đã nhập. Vui lòng kiểm tra lại cả hai.";

pub const PHONE4_INVALID: &str = "Vui lòng nhập đúng 4 chữ số cuối của số điện thoại nhận.";

pub const DOSSIER_INVALID: &str =
    "Vui lòng nhập mã hồ sơ như trên giấy hẹn (ví dụ 000.00.01.H42-260315-0001).";

pub const RATE_LIMITED: &str =
    "Bạn tra cứu quá nhiều lần trong thời gian ngắn. Vui lòng thử lại sau ít phút.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_and_reason_reads_as_vietnamese() {
        for s in DeliveryState::ALL {
            let (label, sentence) = state(s);
            assert!(!label.is_empty() && sentence.ends_with('.'), "{s:?}");
        }
        assert_eq!(reason("consignee_not_home"), Some("Người nhận vắng nhà"));
        assert_eq!(reason("a note typed by an agency"), None);
    }

    #[test]
    fn pickup_advice_names_the_place_and_what_to_bring() {
        let text = advice(
            DeliveryState::ReadyForPickup,
            None,
            Some("Bưu cục Gia Lâm"),
            "K7RM-2XQ9-H4",
            "Trung tâm PVHCC",
        )
        .expect("advice");
        assert!(
            text.contains("Bưu cục Gia Lâm") && text.contains("CCCD"),
            "{text}"
        );
        assert!(text.contains("K7RM-2XQ9-H4"), "{text}");
        assert!(advice(DeliveryState::InTransit, None, None, "x", "y").is_none());
    }
}
