//! The dashboard's charts as inline SVG, drawn on the server: no script, no external asset,
//! readable on a small screen and printable. Each function takes report figures and returns
//! markup; every text is escaped.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, OnceLock};

use geo::{CoordsIter, Simplify};

use super::{AgencyShare, CourierReport, DayReport, WardReport};
use crate::units::Units;

/// Colour and Vietnamese name of each group of states the volume chart stacks.
pub const STATE_GROUPS: [(&str, &str, &[&str]); 5] = [
    ("#2e7d32", "Đã giao", &["delivered"]),
    (
        "#1565c0",
        "Đang vận chuyển",
        &[
            "received",
            "awaiting_pickup",
            "picked_up",
            "in_transit",
            "out_for_delivery",
        ],
    ),
    (
        "#ef6c00",
        "Cần chú ý",
        &[
            "delivery_failed",
            "ready_for_pickup",
            "on_hold",
            "returning",
        ],
    ),
    (
        "#757575",
        "Hoàn trả, huỷ, thất lạc",
        &["returned", "cancelled", "lost"],
    ),
    ("#c62828", "Chưa gửi được", &["dispatch_failed"]),
];

pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "–".to_owned(), |r| format!("{:.1} %", r * 100.0))
}

/// Deliveries enqueued per day, stacked by the group of the state they are in now.
pub fn daily_volume(days: &[DayReport]) -> String {
    let (w, h, left, bottom, top) = (720.0, 240.0, 44.0, 28.0, 10.0);
    let max = nice_ceiling(days.iter().map(|d| d.total).max().unwrap_or(0));
    let plot_h = h - bottom - top;
    let slot = (w - left - 8.0) / days.len().max(1) as f64;
    let bar = (slot * 0.8).max(1.0);
    let mut svg = format!(
        r#"<svg viewBox="0 0 {w} {h}" role="img" aria-labelledby="vol-t" class="chart"><title id="vol-t">Số bưu gửi theo ngày tiếp nhận và trạng thái hiện tại</title>"#
    );
    axis(&mut svg, left, top, plot_h, w, max);
    for (i, day) in days.iter().enumerate() {
        let x = left + i as f64 * slot + (slot - bar) / 2.0;
        let mut y = top + plot_h;
        for (colour, name, states) in STATE_GROUPS {
            let n: i64 = states.iter().filter_map(|s| day.by_state.get(*s)).sum();
            if n == 0 {
                continue;
            }
            let bh = n as f64 / max * plot_h;
            y -= bh;
            let _ = write!(
                svg,
                r#"<rect x="{x:.1}" y="{y:.1}" width="{bar:.1}" height="{bh:.1}" fill="{colour}"><title>{}: {} {n}</title></rect>"#,
                day.day,
                esc(name)
            );
        }
        // A date under every bar of a fortnight, else every 7th (and the last), as dd/mm.
        let every = if days.len() <= 14 { 1 } else { 7 };
        // (A 7th-day date too close to the last one would overprint it.)
        let last = i + 1 == days.len();
        if last || (i % every == 0 && (every == 1 || i + 3 < days.len())) {
            let label = day
                .day
                .get(8..10)
                .zip(day.day.get(5..7))
                .map(|(d, m)| format!("{d}/{m}"));
            let _ = write!(
                svg,
                r#"<text x="{:.1}" y="{}" font-size="11" text-anchor="middle">{}</text>"#,
                x + bar / 2.0,
                h - 10.0,
                label.unwrap_or_default()
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// The axis maximum: the next of 2, 4, 5, 10, 20, 40, 50, 100… at or above `max`, so the
/// half-way grid line is a whole number too.
fn nice_ceiling(max: i64) -> f64 {
    let mut magnitude = 1_i64;
    loop {
        for factor in [2, 4, 5, 10] {
            let candidate = magnitude.saturating_mul(factor);
            if candidate >= max {
                return candidate as f64;
            }
        }
        magnitude = magnitude.saturating_mul(10);
    }
}

/// The vertical axis: zero, half and the maximum, with light grid lines.
fn axis(svg: &mut String, left: f64, top: f64, plot_h: f64, w: f64, max: f64) {
    for frac in [0.0, 0.5, 1.0] {
        let y = top + plot_h - frac * plot_h;
        let _ = write!(
            svg,
            r##"<line x1="{left}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" font-size="11" text-anchor="end">{}</text>"##,
            w - 8.0,
            left - 4.0,
            y + 4.0,
            (max * frac).round()
        );
    }
}

/// One horizontal bar per row, 0–100 %, with an optional target mark.
struct Bar {
    label: String,
    value: Option<f64>,
    target: Option<f64>,
    note: String,
}

fn bars(id: &str, title: &str, rows: &[Bar]) -> String {
    // Drawn for half the page: a narrow box, so the text stays readable once scaled.
    let (w, left, row_h) = (560.0, 190.0, 30.0);
    let h = 24.0 + row_h * rows.len().max(1) as f64;
    let plot_w = w - left - 150.0;
    let mut svg = format!(
        r#"<svg viewBox="0 0 {w} {h}" role="img" aria-labelledby="{id}-t" class="chart"><title id="{id}-t">{}</title>"#,
        esc(title)
    );
    for (x, label) in [(0.0, "0"), (0.5, "50 %"), (1.0, "100 %")] {
        let px = left + x * plot_w;
        let _ = write!(
            svg,
            r##"<line x1="{px:.1}" x2="{px:.1}" y1="4" y2="{}" stroke="#ddd"/><text x="{px:.1}" y="{}" font-size="11" text-anchor="middle">{label}</text>"##,
            h - 16.0,
            h - 4.0
        );
    }
    if rows.is_empty() {
        let _ = write!(
            svg,
            r#"<text x="{left}" y="22" font-size="13">Chưa có số liệu</text>"#
        );
    }
    for (i, r) in rows.iter().enumerate() {
        let y = 6.0 + i as f64 * row_h;
        let v = r.value.unwrap_or(0.0).clamp(0.0, 1.0);
        let colour = match (r.value, r.target) {
            (Some(v), Some(t)) if v < t => "#ef6c00",
            (Some(_), _) => "#2e7d32",
            _ => "#9e9e9e",
        };
        let _ = write!(
            svg,
            r#"<text x="{}" y="{:.1}" font-size="12" text-anchor="end">{}</text><rect x="{left}" y="{y:.1}" width="{:.1}" height="18" fill="{colour}"><title>{}: {}</title></rect><text x="{:.1}" y="{:.1}" font-size="12">{}</text>"#,
            left - 6.0,
            y + 13.0,
            esc(&r.label),
            v * plot_w,
            esc(&r.label),
            esc(&r.note),
            left + v * plot_w + 4.0,
            y + 13.0,
            esc(&r.note)
        );
        if let Some(t) = r.target {
            let tx = left + t.clamp(0.0, 1.0) * plot_w;
            let _ = write!(
                svg,
                r##"<line x1="{tx:.1}" x2="{tx:.1}" y1="{:.1}" y2="{:.1}" stroke="#000" stroke-width="2"><title>Chỉ tiêu {:.0} %</title></line>"##,
                y - 2.0,
                y + 20.0,
                t * 100.0
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// Share of results returned by post per agency, the target of its level marked.
pub fn share_by_post(rows: &[AgencyShare]) -> String {
    let bars_: Vec<Bar> = rows
        .iter()
        .map(|r| {
            let s = &r.share;
            Bar {
                label: r.name.clone(),
                value: s.share_percent.map(|p| p / 100.0),
                target: s.target_percent.map(|t| t / 100.0),
                note: match s.share_percent {
                    Some(p) => format!(
                        "{p:.1} % ({}/{})",
                        s.by_post_on_reported_days, s.results_total
                    ),
                    None => format!("{} bưu gửi, chưa báo tổng số kết quả", s.by_post),
                },
            }
        })
        .collect();
    bars(
        "share",
        "Tỷ lệ kết quả trả qua bưu chính so với chỉ tiêu",
        &bars_,
    )
}

/// On-time rate per courier.
pub fn on_time(rows: &[CourierReport]) -> String {
    let bars_: Vec<Bar> = rows
        .iter()
        .map(|r| Bar {
            label: crate::domain::courier::Courier::parse(&r.courier)
                .map_or_else(|| r.courier.clone(), |c| c.display_name().to_owned()),
            value: r.outcomes.on_time_rate,
            target: None,
            note: format!(
                "{} ({}/{} đúng hạn)",
                percent(r.outcomes.on_time_rate),
                r.outcomes.on_time,
                r.outcomes.delivered
            ),
        })
        .collect();
    bars(
        "ontime",
        "Tỷ lệ giao đúng hạn theo đơn vị bưu chính",
        &bars_,
    )
}

/// The outline of each ward of a province as an SVG path (simplified to about 50 m),
/// computed once per province.
type Outlines = Arc<Vec<(String, String)>>;

fn outlines(units: &Units, province: &str) -> Outlines {
    static CACHE: OnceLock<Mutex<HashMap<String, Outlines>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Ok(map) = cache.lock()
        && let Some(found) = map.get(province)
    {
        return found.clone();
    }
    let shapes: Vec<_> = units
        .polygons()
        .iter()
        .filter(|p| {
            units
                .ward(&p.ward_code)
                .is_some_and(|w| w.province_code == province)
        })
        .collect();
    let (mut min_x, mut min_y, mut max_x, mut max_y) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
    for c in shapes.iter().flat_map(|p| p.shape.coords_iter()) {
        min_x = min_x.min(c.x);
        max_x = max_x.max(c.x);
        min_y = min_y.min(c.y);
        max_y = max_y.max(c.y);
    }
    // Equirectangular, shrunk east-west by cos(latitude), fitted into a 600-unit square.
    let k = ((min_y + max_y) / 2.0).to_radians().cos();
    let scale = 600.0 / ((max_x - min_x) * k).max(max_y - min_y).max(1e-6);
    let out: Vec<(String, String)> = shapes
        .iter()
        .map(|p| {
            let simple = p.shape.simplify(0.0005);
            let mut d = String::new();
            for ring in simple
                .iter()
                .flat_map(|poly| std::iter::once(poly.exterior()).chain(poly.interiors()))
            {
                for (i, c) in ring.coords().enumerate() {
                    let x = (c.x - min_x) * k * scale;
                    let y = (max_y - c.y) * scale;
                    let _ = write!(d, "{}{x:.1},{y:.1}", if i == 0 { "M" } else { "L" });
                }
                d.push('Z');
            }
            (p.ward_code.clone(), d)
        })
        .collect();
    let out = Arc::new(out);
    if let Ok(mut map) = cache.lock() {
        map.insert(province.to_owned(), out.clone());
    }
    out
}

/// Deliveries per ward of one province, shaded in five steps; `None` when the province has
/// no ward polygons (only 01, 31, 44, 48 and 79 ship with them).
pub fn ward_map(units: &Units, province: &str, wards: &[WardReport]) -> Option<String> {
    let shapes = outlines(units, province);
    if shapes.is_empty() {
        return None;
    }
    let counts: HashMap<&str, i64> = wards
        .iter()
        .map(|w| (w.ward_code.as_str(), w.deliveries))
        .collect();
    let max = counts.values().copied().max().unwrap_or(0).max(1) as f64;
    const SHADES: [&str; 5] = ["#deebf7", "#9ecae1", "#6baed6", "#3182bd", "#08519c"];
    let mut svg = String::from(
        r#"<svg viewBox="-5 -5 610 610" preserveAspectRatio="xMidYMid meet" role="img" aria-labelledby="map-t" class="map"><title id="map-t">Số bưu gửi theo phường, xã</title>"#,
    );
    for (code, d) in shapes.iter() {
        let n = counts.get(code.as_str()).copied().unwrap_or(0);
        let fill = if n == 0 {
            "#f2f2f2"
        } else {
            SHADES[(((n as f64 / max) * 5.0).ceil() as usize).clamp(1, 5) - 1]
        };
        let name = units.ward(code).map(|w| w.name.as_str()).unwrap_or("");
        let _ = write!(
            svg,
            r##"<path d="{d}" fill="{fill}" stroke="#fff" stroke-width="0.6"><title>{}: {n}</title></path>"##,
            esc(name)
        );
    }
    svg.push_str("</svg>");
    Some(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_axis_ends_on_a_number_whose_half_is_whole() {
        for (max, nice) in [
            (0, 2.0),
            (1, 2.0),
            (3, 4.0),
            (5, 5.0),
            (7, 10.0),
            (11, 20.0),
            (41, 50.0),
            (1234, 2000.0),
        ] {
            assert_eq!(nice_ceiling(max), nice, "{max}");
        }
    }
}
