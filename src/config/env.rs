//! `CIVICPOST__SECTION__KEY=value` settings, read as text.
//!
//! figment's own `Env` provider guesses a type from the text, so a Viettel Post username,
//! which is a phone number, turned into the number 900000000: the leading 0 gone and the
//! setting refused ("found unsigned int, expected a string"). Here values stay text and the
//! settings are extracted leniently, so a number or a switch is read from its text only where
//! the setting is one. Lists and tables (`[a, b]`, `{k = v}`) are still parsed.

use figment::providers::Env;
use figment::value::{Dict, Map, Value};
use figment::{Error, Metadata, Profile, Provider};

pub struct EnvText {
    prefix: &'static str,
}

impl EnvText {
    pub fn prefixed(prefix: &'static str) -> Self {
        Self { prefix }
    }
}

impl Provider for EnvText {
    fn metadata(&self) -> Metadata {
        Metadata::named(format!("`{}` environment variable(s)", self.prefix))
    }

    fn data(&self) -> Result<Map<Profile, Dict>, Error> {
        let mut root = Dict::new();
        for (key, text) in Env::prefixed(self.prefix).split("__").iter() {
            let value = if text.trim_start().starts_with(['[', '{']) {
                text.parse().unwrap_or_else(|_| Value::from(text.clone()))
            } else {
                Value::from(text)
            };
            let path: Vec<&str> = key.as_str().split('.').collect();
            insert(&mut root, &path, value);
        }
        Ok(Profile::Default.collect(root))
    }
}

/// Puts `value` at `path`, making tables on the way.
fn insert(dict: &mut Dict, path: &[&str], value: Value) {
    match path {
        [] => {}
        [last] => {
            dict.insert((*last).to_owned(), value);
        }
        [head, rest @ ..] => {
            let entry = dict
                .entry((*head).to_owned())
                .or_insert_with(|| Value::from(Dict::new()));
            if entry.as_dict().is_none() {
                *entry = Value::from(Dict::new());
            }
            if let Value::Dict(_, inner) = entry {
                insert(inner, rest, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use figment::Figment;
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Courier {
        username: String,
        timeout_ms: u64,
        enabled: bool,
        codes: Vec<String>,
    }

    #[derive(Deserialize)]
    struct Root {
        courier: Courier,
    }

    #[test]
    // `Jail`'s closure must return figment's own (large) error type.
    #[allow(clippy::result_large_err)]
    fn text_stays_text_and_numbers_are_read_where_wanted() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("CPTEST__COURIER__USERNAME", "0900000000");
            jail.set_env("CPTEST__COURIER__TIMEOUT_MS", "700");
            jail.set_env("CPTEST__COURIER__ENABLED", "false");
            jail.set_env("CPTEST__COURIER__CODES", "[\"00\", \"01\"]");
            let root: Root = Figment::from(EnvText::prefixed("CPTEST__")).extract_lossy()?;
            assert_eq!(root.courier.username, "0900000000");
            assert_eq!(root.courier.timeout_ms, 700);
            assert!(!root.courier.enabled);
            assert_eq!(root.courier.codes, ["00", "01"]);
            Ok(())
        });
    }
}
