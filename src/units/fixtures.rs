//! Loading and validating the administrative-unit fixtures.
//!
//! Everything is parsed and cross-checked before `UnitsData` is returned, so a caller that
//! writes the data to the database in one transaction never sees half-valid input.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::path::PathBuf;

use sha2::{Digest, Sha256};

use super::{LegacyLink, Province, Ward, WardPolygon, fixtures_csv, polygons_txt};

/// Where the fixture files come from.
#[derive(Clone, Debug)]
pub enum FixtureSource {
    /// The copies compiled into the binary from `fixtures/admin-units/`.
    Embedded,
    /// A directory holding the same file names (e.g. a newer data release).
    Dir(PathBuf),
}

/// File names, in the order they are fingerprinted.
pub(crate) const PROVINCES: &str = "provinces.csv";
pub(crate) const UNITS: &str = "units.csv";
pub(crate) const LATER: &str = "later-changes.csv";
pub(crate) const MAPPING: &str = "ward-mapping-2025.csv";
pub(crate) const POLYGONS: &str = "ward-polygons.txt";
const FILES: [&str; 5] = [PROVINCES, UNITS, LATER, MAPPING, POLYGONS];

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/admin-units/",
            $name
        ))
    };
}

const EMBEDDED: [&str; 5] = [
    fixture!("provinces.csv"),
    fixture!("units.csv"),
    fixture!("later-changes.csv"),
    fixture!("ward-mapping-2025.csv"),
    fixture!("ward-polygons.txt"),
];

/// Why the fixtures could not be loaded. Every variant names the file; row errors also
/// name the line (1-based, the header is line 1).
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    #[error("{file}: cannot read: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file} line {line}: {reason}")]
    Line {
        file: &'static str,
        line: u64,
        reason: String,
    },
    #[error("{file}: {reason}")]
    File { file: &'static str, reason: String },
}

impl FixtureError {
    pub(crate) fn line(file: &'static str, line: u64, reason: impl Into<String>) -> Self {
        FixtureError::Line {
            file,
            line,
            reason: reason.into(),
        }
    }
}

/// Validated fixture contents with later changes applied.
#[derive(Clone, Debug)]
pub struct UnitsData {
    pub provinces: Vec<Province>,
    pub wards: Vec<Ward>,
    pub legacy_links: Vec<LegacyLink>,
    pub polygons: Vec<WardPolygon>,
    /// SHA-256 (lower-case hex) over all input texts, with their names and lengths.
    pub fingerprint: String,
}

impl UnitsData {
    /// Reads, parses and validates all fixture files.
    pub fn load(source: &FixtureSource) -> Result<UnitsData, FixtureError> {
        let texts = read_texts(source)?;
        let [
            provinces_txt,
            units_txt,
            later_txt,
            mapping_txt,
            polygons_txt,
        ] = &texts;
        let mut provinces = fixtures_csv::parse_provinces(provinces_txt)?;
        let mut wards = fixtures_csv::parse_units(units_txt, &provinces)?;
        fixtures_csv::apply_later_changes(later_txt, &mut provinces, &mut wards)?;
        let legacy_links = fixtures_csv::parse_mapping(mapping_txt, &wards)?;
        let polygons = polygons_txt::parse(polygons_txt, &wards)?;
        Ok(UnitsData {
            provinces,
            wards,
            legacy_links,
            polygons,
            fingerprint: fingerprint(&texts),
        })
    }

    /// Only the provinces and wards, later changes applied: what a list of names needs
    /// (the courier simulators), without the old→new links and polygons that make up most
    /// of a full load's memory.
    pub fn load_lists(source: &FixtureSource) -> Result<(Vec<Province>, Vec<Ward>), FixtureError> {
        let text = |index: usize| read_text(source, index);
        let mut provinces = fixtures_csv::parse_provinces(&text(0)?)?;
        let mut wards = fixtures_csv::parse_units(&text(1)?, &provinces)?;
        fixtures_csv::apply_later_changes(&text(2)?, &mut provinces, &mut wards)?;
        Ok((provinces, wards))
    }
}

fn read_texts(source: &FixtureSource) -> Result<[Cow<'static, str>; 5], FixtureError> {
    let mut out: [Cow<'static, str>; 5] = Default::default();
    for (index, slot) in out.iter_mut().enumerate() {
        *slot = read_text(source, index)?;
    }
    Ok(out)
}

/// File `FILES[index]` of the source.
fn read_text(source: &FixtureSource, index: usize) -> Result<Cow<'static, str>, FixtureError> {
    match source {
        FixtureSource::Embedded => Ok(Cow::Borrowed(EMBEDDED[index])),
        FixtureSource::Dir(dir) => {
            let path = dir.join(FILES[index]);
            std::fs::read_to_string(&path)
                .map(Cow::Owned)
                .map_err(|source| FixtureError::Io {
                    file: path.display().to_string(),
                    source,
                })
        }
    }
}

/// Names and lengths are hashed too, so moving bytes between files changes the result.
fn fingerprint(texts: &[Cow<'static, str>; 5]) -> String {
    let mut hasher = Sha256::new();
    for (name, text) in FILES.iter().zip(texts) {
        hasher.update(name.as_bytes());
        hasher.update((text.len() as u64).to_le_bytes());
        hasher.update(text.as_bytes());
    }
    let digest = hasher.finalize();
    let mut hex = String::with_capacity(64);
    for byte in digest.iter() {
        // Writing to a String cannot fail.
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_loads_and_fingerprint_is_stable() {
        let a = UnitsData::load(&FixtureSource::Embedded).unwrap();
        let b = UnitsData::load(&FixtureSource::Embedded).unwrap();
        assert_eq!(a.fingerprint, b.fingerprint);
        assert_eq!(a.fingerprint.len(), 64);
        assert_eq!(a.provinces.len(), 34);
        assert_eq!(a.wards.len(), 3321);
        assert_eq!(a.legacy_links.len(), 10_583);
        assert_eq!(a.polygons.len(), 580);
    }

    #[test]
    fn lists_alone_match_the_full_load() {
        let full = UnitsData::load(&FixtureSource::Embedded).unwrap();
        let (provinces, wards) = UnitsData::load_lists(&FixtureSource::Embedded).unwrap();
        assert_eq!(provinces.len(), full.provinces.len());
        assert_eq!(wards.len(), full.wards.len());
        let renamed = wards.iter().find(|w| w.code == "25270").unwrap();
        assert_eq!(renamed.name, "Phường Lộc Ninh");
        assert_eq!(renamed.name_2025.as_deref(), Some("Xã Lộc Ninh"));
    }

    #[test]
    fn missing_dir_names_the_file() {
        let dir = std::env::temp_dir().join("civicpost-no-such-fixtures-dir");
        let err = UnitsData::load(&FixtureSource::Dir(dir)).unwrap_err();
        assert!(err.to_string().contains("provinces.csv"), "{err}");
    }
}
