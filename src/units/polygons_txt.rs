//! Parser for `ward-polygons.txt` (written by `fixtures/build.py`): one ring per line,
//! `<ward_code> <polygon_index> <ring_index> <lon0>,<lat0> <dlon>,<dlat> …` in integer
//! 1e-5 degrees, deltas from the previous vertex, rings implicitly closed.

use std::collections::HashSet;

use geo::{Coord, LineString, MultiPolygon, Polygon};

use super::codes::parse_code;
use super::fixtures::{FixtureError, POLYGONS};
use super::{Ward, WardPolygon};

const SCALE: f64 = 100_000.0;

/// The ward whose rings are being collected.
struct Current {
    code: String,
    polygons: Vec<Polygon<f32>>,
    exterior: Option<LineString<f32>>,
    holes: Vec<LineString<f32>>,
}

impl Current {
    fn finish_polygon(&mut self) {
        if let Some(ext) = self.exterior.take() {
            let holes = std::mem::take(&mut self.holes);
            self.polygons.push(Polygon::new(ext, holes));
        }
    }

    fn finish(mut self) -> WardPolygon {
        self.finish_polygon();
        WardPolygon {
            ward_code: self.code,
            shape: MultiPolygon::new(self.polygons),
        }
    }
}

pub(crate) fn parse(text: &str, wards: &[Ward]) -> Result<Vec<WardPolygon>, FixtureError> {
    let known: HashSet<&str> = wards.iter().map(|w| w.code.as_str()).collect();
    let mut done: HashSet<String> = HashSet::new();
    let mut out = Vec::new();
    let mut current: Option<Current> = None;
    for (i, line) in text.lines().enumerate() {
        let line_no = i as u64 + 1;
        let err = |reason: String| FixtureError::line(POLYGONS, line_no, reason);
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (code, poly, ring, coords) = split_head(line).map_err(&err)?;
        if current.as_ref().is_none_or(|c| c.code != code) {
            if !known.contains(code) {
                return Err(err(format!("ward_code {code:?} is not in units.csv")));
            }
            if !done.insert(code.to_owned()) {
                return Err(err(format!(
                    "ward {code:?} appears again after other wards"
                )));
            }
            out.extend(current.take().map(Current::finish));
            current = Some(Current {
                code: code.to_owned(),
                polygons: Vec::new(),
                exterior: None,
                holes: Vec::new(),
            });
        }
        if let Some(cur) = current.as_mut() {
            add_ring(cur, poly, ring, parse_ring(coords).map_err(&err)?).map_err(&err)?;
        }
    }
    out.extend(current.take().map(Current::finish));
    if out.is_empty() {
        return Err(FixtureError::File {
            file: POLYGONS,
            reason: "no polygons".into(),
        });
    }
    Ok(out)
}

/// Rings must arrive in order: polygon 0 ring 0, its holes, polygon 1 ring 0, …
fn add_ring(
    cur: &mut Current,
    poly: usize,
    ring: usize,
    ls: LineString<f32>,
) -> Result<(), String> {
    let next_poly = cur.polygons.len() + usize::from(cur.exterior.is_some());
    if ring == 0 {
        if poly != next_poly {
            return Err(format!("polygon index {poly}, expected {next_poly}"));
        }
        cur.finish_polygon();
        cur.exterior = Some(ls);
    } else {
        let expected = cur.holes.len() + 1;
        if cur.exterior.is_none() || poly + 1 != next_poly || ring != expected {
            return Err(format!(
                "ring {poly}/{ring} out of order (expected hole {expected} of the current polygon)"
            ));
        }
        cur.holes.push(ls);
    }
    Ok(())
}

fn split_head(line: &str) -> Result<(&str, usize, usize, &str), String> {
    let mut parts = line.splitn(4, ' ');
    let code = parts.next().unwrap_or("");
    if parse_code(code, 5).is_none() {
        return Err(format!("ward_code {code:?} is not 5 digits"));
    }
    let mut index = |what: &str| {
        let s = parts.next().unwrap_or("");
        s.parse::<usize>()
            .map_err(|_| format!("{what} {s:?} is not a number"))
    };
    let poly = index("polygon index")?;
    let ring = index("ring index")?;
    Ok((code, poly, ring, parts.next().unwrap_or("")))
}

/// One allocation per ring: the vertex count is known from the separators.
fn parse_ring(coords: &str) -> Result<LineString<f32>, String> {
    let n = coords.bytes().filter(|&b| b == b' ').count() + 1;
    if n < 3 {
        return Err(format!("ring has {n} vertices, need at least 3"));
    }
    let mut pts: Vec<Coord<f32>> = Vec::with_capacity(n + 1);
    let (mut x, mut y) = (0i64, 0i64);
    for pair in coords.split(' ') {
        let (dx, dy) = parse_pair(pair)?;
        x += dx;
        y += dy;
        if x.abs() > 180 * 100_000 || y.abs() > 90 * 100_000 {
            return Err(format!("vertex {} leaves the lon/lat range", pts.len()));
        }
        pts.push(Coord {
            x: (x as f64 / SCALE) as f32,
            y: (y as f64 / SCALE) as f32,
        });
    }
    // Close explicitly so `Polygon::new` does not have to grow the vector.
    if let Some(&first) = pts.first() {
        pts.push(first);
    }
    Ok(LineString::new(pts))
}

fn parse_pair(pair: &str) -> Result<(i64, i64), String> {
    let parsed = pair
        .split_once(',')
        .and_then(|(a, b)| Some((a.parse::<i32>().ok()?, b.parse::<i32>().ok()?)));
    parsed
        .map(|(a, b)| (i64::from(a), i64::from(b)))
        .ok_or_else(|| format!("coordinate pair {pair:?} is not two integers"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::WardKind;

    fn ward(code: &str) -> Ward {
        Ward {
            code: code.into(),
            province_code: "01".into(),
            name: "Xã A".into(),
            kind: WardKind::Xa,
            lat: 0.0,
            lon: 0.0,
            area_km2: 1.0,
            name_2025: None,
        }
    }

    #[test]
    fn parses_deltas_and_holes() {
        let text = "# header\n00001 0 0 100,200 10,0 0,10 -10,0\n00001 0 1 101,201 1,0 0,1\n00001 1 0 0,0 1,0 0,1\n";
        let p = parse(text, &[ward("00001")]).unwrap();
        assert_eq!(p.len(), 1);
        let shape = &p[0].shape;
        assert_eq!(shape.0.len(), 2);
        assert_eq!(shape.0[0].interiors().len(), 1);
        let ext = shape.0[0].exterior();
        assert_eq!(ext.0.len(), 5);
        assert_eq!(
            ext.0[2],
            Coord {
                x: 0.0011f32,
                y: 0.0021f32
            }
        );
    }

    #[test]
    fn rejects_bad_lines() {
        let w = [ward("00001")];
        let cases = [
            ("00002 0 0 0,0 1,0 0,1", "not in units.csv"),
            ("00001 0 0 0,0 1,x 0,1", "line 1: coordinate pair"),
            ("00001 1 0 0,0 1,0 0,1", "polygon index 1, expected 0"),
            ("00001 0 1 0,0 1,0 0,1", "out of order"),
            ("00001 0 0 0,0 1,0", "need at least 3"),
            ("0001 0 0 0,0 1,0 0,1", "not 5 digits"),
        ];
        for (text, want) in cases {
            let e = parse(text, &w).unwrap_err().to_string();
            assert!(
                e.contains(want) && e.starts_with("ward-polygons.txt"),
                "{text}: {e}"
            );
        }
    }
}
