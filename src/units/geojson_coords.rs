//! Serialises a `geo::MultiPolygon` as GeoJSON `coordinates` (`[[[[lon, lat], …]]]`),
//! because the `geo` dependency is built without its serde feature.

use geo::{LineString, MultiPolygon, Polygon};
use serde::Serializer;
use serde::ser::SerializeSeq;

struct Ring<'a>(&'a LineString<f32>);
struct Rings<'a>(&'a Polygon<f32>);

impl serde::Serialize for Ring<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.0.iter().map(|c| [f64::from(c.x), f64::from(c.y)]))
    }
}

impl serde::Serialize for Rings<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(1 + self.0.interiors().len()))?;
        seq.serialize_element(&Ring(self.0.exterior()))?;
        for hole in self.0.interiors() {
            seq.serialize_element(&Ring(hole))?;
        }
        seq.end()
    }
}

pub(crate) fn serialize<S: Serializer>(shape: &MultiPolygon<f32>, s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(shape.0.iter().map(Rings))
}
