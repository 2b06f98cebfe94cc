//! The couriers this process talks to, each with its circuit breaker, built from `[couriers]`.

use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;

use super::breaker::Breaker;
use super::sandbox;
use super::viettelpost::{ViettelConfig, ViettelPostAdapter};
use super::vnpost::{VnpostAdapter, VnpostConfig};
use super::{CourierAdapter, CourierError};
use crate::cache::Cache;
use crate::config::{BreakerSettings, Settings};
use crate::domain::courier::Courier;

struct Entry {
    adapter: Arc<dyn CourierAdapter>,
    breaker: Arc<Breaker>,
}

/// Enabled couriers by name. Cheap to share behind an `Arc`.
pub struct Couriers {
    entries: Vec<Entry>,
}

impl Couriers {
    /// Adapters with one breaker each (tests build their own set this way).
    pub fn new(adapters: Vec<Arc<dyn CourierAdapter>>, breaker: &BreakerSettings) -> Self {
        let entries = adapters
            .into_iter()
            .map(|adapter| Entry {
                adapter,
                breaker: Arc::new(Breaker::new(
                    breaker.failure_threshold,
                    Duration::from_secs(breaker.open_secs),
                )),
            })
            .collect();
        Self { entries }
    }

    /// The enabled couriers of the settings. In sandbox mode a courier without `base_url`
    /// is the built-in simulator under `service_base` (this service's own address).
    pub fn from_settings(
        settings: &Settings,
        cache: &Cache,
        service_base: &str,
    ) -> Result<Self, CourierError> {
        let c = &settings.couriers;
        let sandbox = settings.app.sandbox;
        let simulator = |courier: Courier| {
            format!(
                "{}{}",
                service_base.trim_end_matches('/'),
                sandbox::simulator_path(courier)
            )
        };
        let mut adapters: Vec<Arc<dyn CourierAdapter>> = Vec::new();
        if c.vnpost.enabled {
            let config = match &c.vnpost.base_url {
                Some(base_url) => VnpostConfig {
                    base_url: base_url.clone(),
                    username: c.vnpost.username.clone(),
                    password: c.vnpost.password.clone(),
                    customer_code: c.vnpost.customer_code.clone(),
                    webhook_public_key_pem: read_key(c.vnpost.webhook_public_key_file.as_deref())?,
                    timeout: c.vnpost.timeout(),
                },
                None if sandbox => VnpostConfig {
                    base_url: simulator(Courier::Vnpost),
                    username: sandbox::VNPOST_USERNAME.into(),
                    password: SecretString::from(sandbox::VNPOST_PASSWORD),
                    customer_code: sandbox::VNPOST_CUSTOMER_CODE.into(),
                    webhook_public_key_pem: sandbox::vnpost_simulator_public_key_pem()
                        .map_err(CourierError::Protocol)?,
                    timeout: c.vnpost.timeout(),
                },
                None => return Err(missing("couriers.vnpost.base_url")),
            };
            adapters.push(Arc::new(VnpostAdapter::new(config, Some(cache.clone()))?));
        }
        if c.viettelpost.enabled {
            let config = match &c.viettelpost.base_url {
                Some(base_url) => ViettelConfig {
                    base_url: base_url.clone(),
                    username: c.viettelpost.username.clone(),
                    password: c.viettelpost.password.clone(),
                    webhook_token: c.viettelpost.webhook_token.clone(),
                    timeout: c.viettelpost.timeout(),
                },
                None if sandbox => ViettelConfig {
                    base_url: simulator(Courier::Viettelpost),
                    username: sandbox::VIETTEL_USERNAME.into(),
                    password: SecretString::from(sandbox::VIETTEL_PASSWORD),
                    webhook_token: SecretString::from(sandbox::VIETTEL_WEBHOOK_TOKEN),
                    timeout: c.viettelpost.timeout(),
                },
                None => return Err(missing("couriers.viettelpost.base_url")),
            };
            adapters.push(Arc::new(ViettelPostAdapter::new(
                config,
                Some(cache.clone()),
            )?));
        }
        Ok(Self::new(adapters, &c.breaker))
    }

    fn entry(&self, courier: Courier) -> Option<&Entry> {
        self.entries.iter().find(|e| e.adapter.courier() == courier)
    }

    /// The adapter, when this courier is enabled.
    pub fn adapter(&self, courier: Courier) -> Option<Arc<dyn CourierAdapter>> {
        self.entry(courier).map(|e| e.adapter.clone())
    }

    pub fn breaker(&self, courier: Courier) -> Option<Arc<Breaker>> {
        self.entry(courier).map(|e| e.breaker.clone())
    }

    pub fn enabled(&self) -> Vec<Courier> {
        self.entries.iter().map(|e| e.adapter.courier()).collect()
    }
}

fn missing(setting: &str) -> CourierError {
    CourierError::Protocol(format!("{setting} is not set"))
}

fn read_key(path: Option<&std::path::Path>) -> Result<String, CourierError> {
    let path = path.ok_or_else(|| missing("couriers.vnpost.webhook_public_key_file"))?;
    std::fs::read_to_string(path).map_err(|e| {
        CourierError::Protocol(format!(
            "couriers.vnpost.webhook_public_key_file {}: {e}",
            path.display()
        ))
    })
}
