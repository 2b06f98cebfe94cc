//! Point → ward. Inside the five provinces with ward polygons (01, 31, 44, 48, 79) a
//! point-in-polygon test decides; elsewhere the nearest ward centroid is the best guess.

use geo::{
    BoundingRect, Closest, ClosestPoint, Coord, Distance, Haversine, Intersects, Point, Rect,
};
use serde::Serialize;

use super::codes::parse_code;
use super::{Province, Units, Ward, WardPolygon};

/// Grid cell size in degrees; a ward polygon touches a handful of cells.
const CELL: f64 = 0.1;
/// Simplified neighbours may leave ~1 m slivers between them; a point this close to a
/// polygon but inside none is assigned to it rather than to a distant centroid.
const SNAP_M: f64 = 30.0;
/// Rect margin in degrees covering `SNAP_M` at any latitude in Vietnam.
const SNAP_DEG: f64 = 0.0005;
/// Beyond this distance from every centroid the point is not in Vietnam.
const MAX_CENTROID_M: f64 = 60_000.0;

/// How a located ward was chosen.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Precision {
    /// The point lies inside (or on the border of) the ward polygon.
    Polygon,
    /// Inside no polygon but within 30 m of this one (simplification sliver, GPS noise).
    NearPolygon { distance_m: f64 },
    /// No polygons for this area: the ward with the nearest centroid. A guess.
    NearestCentroid { distance_m: f64 },
}

#[derive(Clone, Debug, Serialize)]
pub struct Located<'a> {
    pub ward: &'a Ward,
    pub province: &'a Province,
    pub precision: Precision,
}

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum LocateError {
    #[error("{which} {value} is not a valid coordinate")]
    InvalidCoordinates { which: &'static str, value: f64 },
    #[error("point is {distance_km:.0} km from the nearest ward centroid: outside Vietnam")]
    OutsideVietnam { distance_km: f64 },
}

/// One polygon of a ward, with its bounding rectangle.
struct PolyRef {
    rect: Rect<f64>,
    ward_polygon: u32,
    polygon: u32,
}

pub(crate) struct GeoIndex {
    refs: Vec<PolyRef>,
    /// Ward index for each entry of `UnitsData::polygons`.
    polygon_ward: Vec<u16>,
    grid: Grid,
    /// Ward centroids (lat, lon) with their ward index.
    centroids: Vec<(f64, f64, u16)>,
}

/// Uniform grid over the polygons' extent, cells listing `refs` indexes (CSR layout).
struct Grid {
    min: Coord<f64>,
    cols: usize,
    rows: usize,
    starts: Vec<u32>,
    items: Vec<u32>,
}

impl Grid {
    fn cell(&self, c: Coord<f64>) -> Option<(usize, usize)> {
        let col = ((c.x - self.min.x) / CELL).floor();
        let row = ((c.y - self.min.y) / CELL).floor();
        let inside =
            col >= 0.0 && row >= 0.0 && (col as usize) < self.cols && (row as usize) < self.rows;
        inside.then_some((col as usize, row as usize))
    }

    fn items_at(&self, c: Coord<f64>) -> &[u32] {
        let Some((col, row)) = self.cell(c) else {
            return &[];
        };
        let i = row * self.cols + col;
        &self.items[self.starts[i] as usize..self.starts[i + 1] as usize]
    }

    fn build(refs: &[PolyRef]) -> Grid {
        let (mut min, mut max) = (
            Coord {
                x: f64::MAX,
                y: f64::MAX,
            },
            Coord {
                x: f64::MIN,
                y: f64::MIN,
            },
        );
        for r in refs {
            min = Coord {
                x: min.x.min(r.rect.min().x),
                y: min.y.min(r.rect.min().y),
            };
            max = Coord {
                x: max.x.max(r.rect.max().x),
                y: max.y.max(r.rect.max().y),
            };
        }
        if refs.is_empty() {
            (min, max) = (Coord { x: 0.0, y: 0.0 }, Coord { x: 0.0, y: 0.0 });
        }
        let cols = ((max.x - min.x) / CELL).floor() as usize + 1;
        let rows = ((max.y - min.y) / CELL).floor() as usize + 1;
        let mut grid = Grid {
            min,
            cols,
            rows,
            starts: Vec::new(),
            items: Vec::new(),
        };
        let mut cells: Vec<Vec<u32>> = vec![Vec::new(); cols * rows];
        for (i, r) in refs.iter().enumerate() {
            let (Some(lo), Some(hi)) = (grid.cell(r.rect.min()), grid.cell(r.rect.max())) else {
                continue;
            };
            for row in lo.1..=hi.1 {
                for col in lo.0..=hi.0 {
                    cells[row * cols + col].push(i as u32);
                }
            }
        }
        grid.starts.push(0);
        for cell in cells {
            grid.items.extend(cell);
            grid.starts.push(grid.items.len() as u32);
        }
        grid
    }
}

impl GeoIndex {
    pub(crate) fn new(
        polygons: &[WardPolygon],
        ward_by_code: &[(u32, u16)],
        wards: &[Ward],
    ) -> GeoIndex {
        let ward_of = |code: &str| {
            let n = parse_code(code, 5)?;
            let pos = ward_by_code.binary_search_by_key(&n, |e| e.0).ok()?;
            Some(ward_by_code[pos].1)
        };
        let polygon_ward: Vec<u16> = polygons
            .iter()
            .map(|p| ward_of(&p.ward_code).unwrap_or(u16::MAX))
            .collect();
        let mut refs = Vec::new();
        for (wp, p) in polygons.iter().enumerate() {
            if polygon_ward[wp] == u16::MAX {
                continue; // unknown ward: never report it
            }
            for (pi, poly) in p.shape.0.iter().enumerate() {
                let Some(rect) = poly.bounding_rect() else {
                    continue;
                };
                // Expanded so the grid also finds polygons within snapping distance.
                let rect = Rect::new(
                    Coord {
                        x: f64::from(rect.min().x) - SNAP_DEG,
                        y: f64::from(rect.min().y) - SNAP_DEG,
                    },
                    Coord {
                        x: f64::from(rect.max().x) + SNAP_DEG,
                        y: f64::from(rect.max().y) + SNAP_DEG,
                    },
                );
                refs.push(PolyRef {
                    rect,
                    ward_polygon: wp as u32,
                    polygon: pi as u32,
                });
            }
        }
        // Every ward competes in the centroid fallback, including polygon wards: a point
        // just off a coast (or GPS noise) is better served by the coastal ward nearby
        // than by a ward of another province. Slivers between polygons are caught earlier
        // by snapping.
        let centroids = wards
            .iter()
            .enumerate()
            .map(|(i, w)| (w.lat, w.lon, i as u16))
            .collect();
        let grid = Grid::build(&refs);
        GeoIndex {
            refs,
            polygon_ward,
            grid,
            centroids,
        }
    }
}

fn check(which: &'static str, value: f64, limit: f64) -> Result<(), LocateError> {
    if value.is_finite() && value.abs() <= limit {
        Ok(())
    } else {
        Err(LocateError::InvalidCoordinates { which, value })
    }
}

impl Units {
    /// The ward containing WGS84 point (`lat`, `lon`); see [`Precision`] for how sure.
    pub fn locate(&self, lat: f64, lon: f64) -> Result<Located<'_>, LocateError> {
        check("latitude", lat, 90.0)?;
        check("longitude", lon, 180.0)?;
        let point = Point::new(lon, lat);
        let (ward, precision) = match self.in_polygon(point) {
            Some(found) => found,
            None => self.nearest_centroid(point)?,
        };
        Ok(Located {
            ward: &self.wards()[ward],
            province: self.province_at(ward),
            precision,
        })
    }

    /// Containing polygon, else the nearest polygon within `SNAP_M`.
    fn in_polygon(&self, point: Point<f64>) -> Option<(usize, Precision)> {
        let geo = &self.geo;
        let mut near: Option<(f64, usize)> = None;
        // Polygons are stored in f32 (see `WardPolygon::shape`).
        let point32 = Point::new(point.x() as f32, point.y() as f32);
        for &r in geo.grid.items_at(point.0) {
            let r = &geo.refs[r as usize];
            if !r.rect.intersects(&point) {
                continue;
            }
            let wp = r.ward_polygon as usize;
            let poly = &self.polygons()[wp].shape.0[r.polygon as usize];
            let ward = usize::from(geo.polygon_ward[wp]);
            if poly.intersects(&point32) {
                return Some((ward, Precision::Polygon));
            }
            if let Closest::SinglePoint(c) | Closest::Intersection(c) = poly.closest_point(&point32)
            {
                let c = Point::new(f64::from(c.x()), f64::from(c.y()));
                let d = Haversine.distance(point, c);
                if d <= SNAP_M && near.is_none_or(|(best, _)| d < best) {
                    near = Some((d, ward));
                }
            }
        }
        near.map(|(d, w)| (w, Precision::NearPolygon { distance_m: d }))
    }

    fn nearest_centroid(&self, point: Point<f64>) -> Result<(usize, Precision), LocateError> {
        // Rank by an equirectangular approximation (cheap), then measure the winner
        // properly; at Vietnam's scale the ranking differs only for near-ties.
        let k = point.y().to_radians().cos();
        let (py, px) = (point.y(), point.x());
        let mut best: Option<&(f64, f64, u16)> = None;
        let mut best_d2 = f64::INFINITY;
        for c in &self.geo.centroids {
            let d2 = (c.0 - py) * (c.0 - py) + ((c.1 - px) * k) * ((c.1 - px) * k);
            if d2 < best_d2 {
                best_d2 = d2;
                best = Some(c);
            }
        }
        let Some(&(lat, lon, ward)) = best else {
            return Err(LocateError::OutsideVietnam {
                distance_km: f64::INFINITY,
            });
        };
        let d = Haversine.distance(point, Point::new(lon, lat));
        if d > MAX_CENTROID_M {
            return Err(LocateError::OutsideVietnam {
                distance_km: d / 1000.0,
            });
        }
        Ok((
            usize::from(ward),
            Precision::NearestCentroid { distance_m: d },
        ))
    }
}
