//! `civicpost units lookup`: the official map from the command line. Reads the fixtures only;
//! needs no database.

use clap::Subcommand;

use super::CliResult;
use crate::config::Settings;
use crate::units::{FixtureSource, LookupAnswer, Precision, Units, UnitsData, Ward};

#[derive(Subcommand)]
pub enum UnitsCommand {
    /// Look up a 2025 ward code (`00004`), a point (`21.0368,105.8345`) or a name
    /// (`Ba Đình, Hà Nội`); with --legacy, a pre-2025 ward code.
    Lookup {
        query: String,
        /// Read the code as a pre-2025 ward code and show what it became.
        #[arg(long)]
        legacy: bool,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(settings: &Settings, command: UnitsCommand) -> CliResult {
    let source = match &settings.units.fixtures_dir {
        Some(dir) => FixtureSource::Dir(dir.clone()),
        None => FixtureSource::Embedded,
    };
    let units = Units::new(UnitsData::load(&source)?);
    match command {
        UnitsCommand::Lookup {
            query,
            legacy: true,
            json,
        } => legacy(&units, &query, json),
        UnitsCommand::Lookup {
            query,
            legacy: false,
            json,
        } => lookup(&units, &query, json),
    }
}

fn legacy(units: &Units, code: &str, json: bool) -> CliResult {
    let code = code.trim();
    let resolution = units
        .legacy(code)
        .ok_or_else(|| format!("no ward had code '{code}' before 1 July 2025"))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&resolution)?);
        return Ok(());
    }
    println!(
        "old ward {code} {} ({}, {}) became:",
        resolution.old_name.unwrap_or("(district without communes)"),
        resolution.old_district_name,
        resolution.old_province_name
    );
    for c in &resolution.candidates {
        let part = if c.partial { "  (part of it)" } else { "" };
        println!("  {}{part}", describe(units, c.ward));
    }
    if resolution.is_split() {
        println!(
            "split: a delivery needs the new ward code, coordinates, or the new ward named in the address line"
        );
    }
    Ok(())
}

fn lookup(units: &Units, query: &str, json: bool) -> CliResult {
    let answer = units.lookup(query)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&answer)?);
        return Ok(());
    }
    match answer {
        // A bare code is always the 2025 scheme; the old reading is only offered as a hint.
        LookupAnswer::Code {
            ward: Some(ward),
            legacy,
            ..
        } => {
            println!("{}", describe(units, ward));
            if legacy.is_some() {
                println!(
                    "note: {} is also a pre-2025 code of a different place; see `civicpost units lookup --legacy {}`",
                    ward.code, ward.code
                );
            }
        }
        LookupAnswer::Code { ward: None, .. } => {
            return Err(format!(
                "no ward has code '{}' in the 2025 scheme; it is a pre-2025 code: use --legacy",
                query.trim()
            )
            .into());
        }
        LookupAnswer::Located(located) => {
            let how = match located.precision {
                Precision::Polygon => "inside the ward polygon".to_owned(),
                Precision::NearPolygon { distance_m } => {
                    format!("{distance_m:.0} m from the ward polygon")
                }
                Precision::NearestCentroid { distance_m } => {
                    format!(
                        "APPROXIMATE: nearest ward centroid, {distance_m:.0} m away (no polygons for this province)"
                    )
                }
            };
            println!("{}\n  {how}", describe(units, located.ward));
        }
        LookupAnswer::Ward { ward, .. } => println!("{}", describe(units, ward)),
        LookupAnswer::Several(wards) => {
            println!(
                "{} wards have that name; add the province (`name, province`):",
                wards.len()
            );
            for w in wards {
                println!("  {}", describe(units, w));
            }
        }
    }
    Ok(())
}

fn describe(units: &Units, ward: &Ward) -> String {
    let province = units
        .province(&ward.province_code)
        .map_or("?", |p| p.name.as_str());
    format!(
        "{} {}, {} ({})  centroid {:.6},{:.6}",
        ward.code, ward.name, province, ward.province_code, ward.lat, ward.lon
    )
}
