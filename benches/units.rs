//! Plain timing of the units index (no criterion): `cargo bench --bench units`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use civicpost::units::{FixtureSource, Units, UnitsData};

/// Runs `f` over `inputs` for `rounds` rounds; returns ns per call.
fn measure<T>(inputs: &[T], rounds: usize, mut f: impl FnMut(&T)) -> f64 {
    let start = Instant::now();
    for _ in 0..rounds {
        for x in inputs {
            f(x);
        }
    }
    start.elapsed().as_nanos() as f64 / (inputs.len() * rounds).max(1) as f64
}

/// Picks a round count so that each case runs for roughly `budget`.
fn rounds_for<T>(inputs: &[T], budget: Duration, mut f: impl FnMut(&T)) -> usize {
    let probe = measure(inputs, 1, &mut f).max(1.0);
    let per_round = probe * inputs.len() as f64;
    ((budget.as_nanos() as f64 / per_round) as usize).clamp(1, 10_000)
}

fn row<T>(name: &str, inputs: &[T], mut f: impl FnMut(&T)) {
    let rounds = rounds_for(inputs, Duration::from_secs(2), &mut f);
    let ns = measure(inputs, rounds, &mut f);
    println!("{name:<34} {:>8} {:>7} {ns:>12.0}", inputs.len(), rounds);
}

/// VmRSS from /proc (Linux only); the budget is < 40 MB for the whole service.
fn rss() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    Some(line.trim_start_matches("VmRSS:").trim().to_owned())
}

fn main() {
    let start = Instant::now();
    let data = match UnitsData::load(&FixtureSource::Embedded) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("cannot load fixtures: {e}");
            std::process::exit(1);
        }
    };
    let parsed = start.elapsed();
    let units = Units::new(data);
    println!(
        "load: parse+validate {parsed:.1?}, total with indexes {:.1?}",
        start.elapsed()
    );
    let rss = rss().unwrap_or_else(|| "unknown".into());
    println!("resident memory after load: {rss}");
    println!(
        "{:<34} {:>8} {:>7} {:>12}",
        "case", "inputs", "rounds", "ns/lookup"
    );

    let codes: Vec<String> = units.wards().iter().map(|w| w.code.clone()).collect();
    row("ward by code (all 3,321)", &codes, |c| {
        black_box(units.ward(black_box(c)));
    });
    let mut old: Vec<String> = units
        .legacy_links()
        .iter()
        .filter_map(|l| l.old_ward_code.clone())
        .collect();
    old.dedup();
    row("legacy by old code", &old, |c| {
        black_box(units.legacy(black_box(c)));
    });
    let names: Vec<(String, String)> = units
        .wards()
        .iter()
        .map(|w| (w.province_code.clone(), w.name.replace("Hòa", "Hoà")))
        .collect();
    row("name in province (exact/variant)", &names, |(p, n)| {
        if let Some(p) = units.province(p) {
            let _ = black_box(units.find_ward_by_name(p, black_box(n)));
        }
    });
    let polygon_provinces = ["01", "31", "44", "48", "79"];
    let (inside, outside): (Vec<_>, Vec<_>) = units
        .wards()
        .iter()
        .partition(|w| polygon_provinces.contains(&w.province_code.as_str()));
    let inside: Vec<(f64, f64)> = inside.iter().map(|w| (w.lat, w.lon)).collect();
    let outside: Vec<(f64, f64)> = outside
        .iter()
        .map(|w| (w.lat + 0.003, w.lon - 0.002))
        .collect();
    row("locate, polygon provinces", &inside, |&(lat, lon)| {
        let _ = black_box(units.locate(black_box(lat), black_box(lon)));
    });
    row("locate, nearest centroid", &outside, |&(lat, lon)| {
        let _ = black_box(units.locate(black_box(lat), black_box(lon)));
    });
    println!("total {:.1?}", start.elapsed());
}
