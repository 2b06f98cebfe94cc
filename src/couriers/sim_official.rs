//! The official 2025 map as the courier simulators start from it: provinces and wards only,
//! read from the units embedded in the binary. Each simulator turns them into its courier's
//! own list (ids, naming style, deliberate quirks) once, at first use, so a service that
//! never calls a simulator pays no memory for either list.

use crate::units::{FixtureSource, Province, UnitsData, Ward};

/// Provinces and wards (sorted by province, then code), or nothing when the embedded data
/// cannot be read, which the fixture tests rule out; the simulator then lists no unit and
/// refuses every address rather than bringing the service down.
pub(crate) fn official_lists() -> (Vec<Province>, Vec<Ward>) {
    match UnitsData::load_lists(&FixtureSource::Embedded) {
        Ok((provinces, mut wards)) => {
            wards.sort_by(|a, b| (&a.province_code, &a.code).cmp(&(&b.province_code, &b.code)));
            (provinces, wards)
        }
        Err(e) => {
            tracing::error!(error = %e, "courier simulator: embedded units unreadable");
            (Vec::new(), Vec::new())
        }
    }
}

/// The wards of `province` in a list made by [`official_lists`].
pub(crate) fn wards_of<'a>(wards: &'a [Ward], province: &str) -> &'a [Ward] {
    let start = wards.partition_point(|w| w.province_code.as_str() < province);
    let end = wards.partition_point(|w| w.province_code.as_str() <= province);
    &wards[start..end]
}

/// The official name without its leading type word (`Thành phố Hà Nội` → `Hà Nội`).
pub(crate) fn without_type(name: &str) -> &str {
    ["Thành phố ", "Tỉnh "]
        .iter()
        .find_map(|p| name.strip_prefix(p))
        .unwrap_or(name)
}

/// Many short names packed into one string. A simulator list holds thousands of names for
/// as long as the process lives: as separate strings they would be thousands of small
/// blocks strewn among the freed temporaries of the build, pinning heap pages that could
/// otherwise go back to the system (several megabytes for both lists).
#[derive(Default)]
pub(crate) struct Names {
    text: String,
    /// End of each name in `text`.
    ends: Vec<u32>,
}

impl Names {
    pub(crate) fn with_capacity(names: usize, bytes: usize) -> Self {
        Names {
            text: String::with_capacity(bytes),
            ends: Vec::with_capacity(names),
        }
    }

    /// Appends a name and returns its index.
    pub(crate) fn push(&mut self, name: &str) -> u32 {
        self.text.push_str(name);
        // The official map is some 100 kB of names, far from 4 GB.
        self.ends
            .push(u32::try_from(self.text.len()).unwrap_or(u32::MAX));
        u32::try_from(self.ends.len() - 1).unwrap_or(u32::MAX)
    }

    /// The name at `index`; empty for an index `push` never returned.
    pub(crate) fn get(&self, index: u32) -> &str {
        let i = index as usize;
        let start = match i.checked_sub(1) {
            Some(prev) => self.ends.get(prev).copied().unwrap_or(0),
            None => 0,
        };
        let end = self.ends.get(i).copied().unwrap_or(start);
        self.text.get(start as usize..end as usize).unwrap_or("")
    }

    pub(crate) fn shrink_to_fit(&mut self) {
        self.text.shrink_to_fit();
        self.ends.shrink_to_fit();
    }
}
