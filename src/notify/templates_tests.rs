use super::*;
use crate::notify::gsm7::is_gsm7;

/// A long but real-looking provincial address.
const BASE: &str = "https://tracuu-buudien.thuathienhue.gov.vn";
const LOCAL: &str = "http://127.0.0.1:8080";

fn built_in() -> Templates {
    Templates::load(None, BASE).expect("built-in templates load")
}

#[test]
fn every_sms_is_one_gsm7_segment_with_the_code_and_link() {
    let t = built_in();
    for ctx in [
        MessageContext::sample_longest(BASE),
        MessageContext::sample_minimal(LOCAL),
    ] {
        for kind in MessageKind::ALL {
            let sms = t.render_sms(kind, &ctx).expect("renders");
            assert!(is_gsm7(&sms) && is_gateway_safe(&sms), "{kind:?}: {sms}");
            assert!(
                septets(&sms) <= 160,
                "{kind:?}: {} chars: {sms}",
                septets(&sms)
            );
            assert!(sms.contains(&ctx.tracking_url), "{kind:?}: {sms}");
            assert!(sms.contains(&ctx.dossier_code), "{kind:?}: {sms}");
        }
        let created = t.render_sms(MessageKind::Created, &ctx).expect("renders");
        assert!(created.contains(&ctx.tracking_code), "{created}");
    }
}

#[test]
fn short_parts_are_kept_whole() {
    let t = built_in();
    let mut ctx = MessageContext::sample_minimal(LOCAL);
    ctx.procedure_name = Some("Cấp phiếu lý lịch tư pháp".into());
    let sms = t.render_sms(MessageKind::Created, &ctx).expect("renders");
    assert!(sms.contains("(Cap phieu ly lich tu phap)"), "{sms}");
    assert!(sms.starts_with("Ket qua ho so H42-261122-0001"), "{sms}");
}

#[test]
fn long_parts_are_cut_at_a_word_with_an_ellipsis() {
    let t = built_in();
    let mut ctx = MessageContext::sample_minimal(LOCAL);
    ctx.procedure_name = MessageContext::sample_longest(BASE).procedure_name;
    let sms = t.render_sms(MessageKind::Created, &ctx).expect("renders");
    assert!(sms.contains("(Cap Giay chung nhan"), "{sms}");
    assert!(sms.contains("...)"), "{sms}");
    let mut failed = MessageContext::sample_minimal(LOCAL);
    failed.reason = Some("Không liên lạc được với người nhận ".repeat(5));
    let sms = t
        .render_sms(MessageKind::DeliveryFailed, &failed)
        .expect("renders");
    assert!(sms.contains("...") && !sms.contains("...."), "{sms}");
    assert!(septets(&sms) <= 160);
}

#[test]
fn email_keeps_diacritics_and_escapes_html() {
    let t = built_in();
    let mut ctx = MessageContext::sample_longest(BASE);
    ctx.procedure_name = Some("<script>alert(1)</script> & Đăng ký".into());
    let email = t
        .render_email(MessageKind::DeliveryFailed, &ctx)
        .expect("renders");
    assert_eq!(
        email.subject,
        "Chưa giao được kết quả hồ sơ 000.00.12.H29-261122-0001"
    );
    assert!(!email.subject.contains('\n'));
    assert!(email.text.contains("Không liên lạc được với người nhận"));
    assert!(email.text.contains("<script>"), "plain text is not escaped");
    assert!(!email.html.contains("<script>"));
    assert!(email.html.contains("&lt;script&gt;"));
    // minijinja escapes `/` too (`&#x2f;`), which browsers read back as `/`.
    assert!(
        email.html.contains("track&#x2f;ABCD2345XY\""),
        "{}",
        email.html
    );
    assert!(email.html.contains("Ngừng nhận email"));
}

#[test]
fn an_override_folder_replaces_one_template() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::create_dir(dir.path().join("sms")).expect("sms dir");
    std::fs::write(
        dir.path().join("sms/delivered.txt.j2"),
        "Đã giao {{ dossier_code }}. {{ tracking_url }}",
    )
    .expect("write");
    let t = Templates::load(Some(dir.path()), BASE).expect("loads");
    let ctx = MessageContext::sample_minimal(LOCAL);
    assert_eq!(
        t.render_sms(MessageKind::Delivered, &ctx).expect("renders"),
        "Da giao H42-261122-0001. http://127.0.0.1:8080/track/ABCD2345XY"
    );
    let other = t.render_sms(MessageKind::Returned, &ctx).expect("renders");
    assert!(other.contains("tra ve"), "{other}");
}

fn load_error(file: &str, source: &str) -> String {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join(file);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("dirs");
    std::fs::write(&path, source).expect("write");
    Templates::load(Some(dir.path()), BASE)
        .expect_err("refused")
        .to_string()
}

#[test]
fn broken_overrides_stop_the_start_naming_the_file() {
    let syntax = load_error("sms/created.txt.j2", "{% if %}");
    assert!(
        syntax.contains("sms/created.txt.j2") && syntax.contains("line 1"),
        "{syntax}"
    );
    let unknown = load_error("email/lost.txt.j2", "Mất\n{{ no_such_thing }}");
    assert!(
        unknown.contains("email/lost.txt.j2") && unknown.contains("undefined"),
        "{unknown}"
    );
    let too_long = load_error(
        "sms/created.txt.j2",
        "{{ tracking_url }} {{ tracking_url }} {{ tracking_url }}",
    );
    assert!(
        too_long.contains("sms/created.txt.j2") && too_long.contains("160"),
        "{too_long}"
    );
    let misspelt = load_error("sms/deliverd.txt.j2", "x");
    assert!(misspelt.contains("sms/deliverd.txt.j2"), "{misspelt}");
    let far = format!("https://{}.gov.vn", "a".repeat(120));
    let too_far = Templates::load(None, &far)
        .expect_err("refused")
        .to_string();
    assert!(too_far.contains("160"), "{too_far}");
}
