//! What a message template may say: every variable a template can use, already formatted
//! for a citizen (local times, amounts, plain-words reasons).

use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct MessageContext {
    pub recipient_name: String,
    /// `ABCD-2345-XY`.
    pub tracking_code: String,
    pub tracking_url: String,
    pub dossier_code: String,
    pub procedure_name: Option<String>,
    pub agency_name: String,
    pub agency_office: Option<String>,
    /// `VNPost`, `Viettel Post`.
    pub courier_name: String,
    pub courier_tracking_number: Option<String>,
    /// Why (a failed attempt, a hold), in plain Vietnamese.
    pub reason: Option<String>,
    /// What to do now.
    pub advice: Option<String>,
    /// The post office or last place the courier named.
    pub place: Option<String>,
    /// Until when a post office holds the parcel, `dd/mm/yyyy`.
    pub pickup_until: Option<String>,
    /// `HH:MM dd/mm/yyyy`, Vietnam time.
    pub occurred_at: String,
    /// What the postman collects (fees, postage), `35.000 đ`.
    pub collect_vnd: Option<String>,
    pub unsubscribe_url: Option<String>,
}

/// The text fields, by name, for the SMS fitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    ProcedureName,
    Place,
    AgencyOffice,
    Advice,
    Reason,
    AgencyName,
    RecipientName,
}

impl MessageContext {
    pub fn field_mut(&mut self, field: Field) -> FieldMut<'_> {
        match field {
            Field::ProcedureName => FieldMut::Optional(&mut self.procedure_name),
            Field::Place => FieldMut::Optional(&mut self.place),
            Field::AgencyOffice => FieldMut::Optional(&mut self.agency_office),
            Field::Advice => FieldMut::Optional(&mut self.advice),
            Field::Reason => FieldMut::Optional(&mut self.reason),
            Field::AgencyName => FieldMut::Required(&mut self.agency_name),
            Field::RecipientName => FieldMut::Required(&mut self.recipient_name),
        }
    }

    /// Every text run through `f` (the SMS transliteration).
    pub fn map_text(&self, f: impl Fn(&str) -> String) -> Self {
        let o = |v: &Option<String>| v.as_deref().map(&f);
        Self {
            recipient_name: f(&self.recipient_name),
            tracking_code: f(&self.tracking_code),
            tracking_url: self.tracking_url.clone(),
            dossier_code: f(&self.dossier_code),
            procedure_name: o(&self.procedure_name),
            agency_name: f(&self.agency_name),
            agency_office: o(&self.agency_office),
            courier_name: f(&self.courier_name),
            courier_tracking_number: o(&self.courier_tracking_number),
            reason: o(&self.reason),
            advice: o(&self.advice),
            place: o(&self.place),
            pickup_until: o(&self.pickup_until),
            occurred_at: f(&self.occurred_at),
            collect_vnd: o(&self.collect_vnd),
            unsubscribe_url: self.unsubscribe_url.clone(),
        }
    }

    /// The longest realistic inputs: what every template must survive (checked at start and
    /// in tests). A long procedure from the national catalogue, the longest ward and
    /// province names, a long agency and office, the longest reason and advice.
    /// `base`: the service's public address, as configured (links start with it).
    pub fn sample_longest(base: &str) -> Self {
        Self {
            recipient_name: "Công Tằng Tôn Nữ Thị Phương Thảo Nguyễn Phước".into(),
            tracking_code: "ABCD-2345-XY".into(),
            tracking_url: format!("{base}/track/ABCD2345XY"),
            dossier_code: "000.00.12.H29-261122-0001".into(),
            procedure_name: Some(
                "Cấp Giấy chứng nhận quyền sử dụng đất, quyền sở hữu nhà ở và tài sản khác gắn \
                 liền với đất lần đầu cho hộ gia đình, cá nhân, cộng đồng dân cư, người Việt Nam \
                 định cư ở nước ngoài được sở hữu nhà ở tại Việt Nam"
                    .into(),
            ),
            agency_name: "Trung tâm Phục vụ hành chính công tỉnh Bà Rịa - Vũng Tàu (Chi nhánh \
                          Phường Thới An Đông)"
                .into(),
            agency_office: Some(
                "Bộ phận tiếp nhận và trả kết quả giải quyết thủ tục hành chính xã Ia Hrú".into(),
            ),
            courier_name: "Viettel Post".into(),
            courier_tracking_number: Some("SHOPEE1234567890123".into()),
            reason: Some("Không liên lạc được với người nhận".into()),
            advice: Some(
                "Địa chỉ nhận cần được bổ sung: liên hệ bưu cục phát (Bưu cục Khai thác cấp 1 \
                 Thành phố Hồ Chí Minh) hoặc Trung tâm Phục vụ hành chính công. Bạn cũng có \
                 thể tự đến bưu cục nhận: mang theo căn cước (CCCD) hoặc giấy tờ tùy thân có \
                 ảnh và mã tra cứu ABCD-2345-XY."
                    .into(),
            ),
            place: Some(
                "Bưu cục Khai thác cấp 1 Thành phố Hồ Chí Minh, Phường Tân Sơn Nhất, Thành phố \
                 Hồ Chí Minh"
                    .into(),
            ),
            pickup_until: Some("29/11/2026".into()),
            occurred_at: "23:30 22/11/2026".into(),
            collect_vnd: Some("1.234.567 đ".into()),
            unsubscribe_url: Some(format!(
                "{base}/unsubscribe/0123456789abcdef0123456789abcdef"
            )),
        }
    }

    /// Only what every message has.
    pub fn sample_minimal(base: &str) -> Self {
        Self {
            recipient_name: "An".into(),
            tracking_code: "ABCD-2345-XY".into(),
            tracking_url: format!("{base}/track/ABCD2345XY"),
            dossier_code: "H42-261122-0001".into(),
            procedure_name: None,
            agency_name: "UBND xã".into(),
            agency_office: None,
            courier_name: "VNPost".into(),
            courier_tracking_number: None,
            reason: None,
            advice: None,
            place: None,
            pickup_until: None,
            occurred_at: "08:00 22/11/2026".into(),
            collect_vnd: None,
            unsubscribe_url: None,
        }
    }
}

pub enum FieldMut<'a> {
    Optional(&'a mut Option<String>),
    Required(&'a mut String),
}
