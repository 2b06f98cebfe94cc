//! Sandbox mode: the credentials the built-in simulators accept and the simulators
//! themselves, mounted at `/sim/viettelpost` and `/sim/vnpost` beside the service, with the
//! SMS gateway simulator at `/sim/sms`.

use std::sync::Arc;

use actix_web::web;
use rsa::RsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;

use super::{viettelpost, vnpost};
use crate::config::SimulatorSettings;
use crate::domain::courier::Courier;

pub const VIETTEL_USERNAME: &str = "0900000000";
pub const VIETTEL_PASSWORD: &str = "sandbox";
pub const VIETTEL_WEBHOOK_TOKEN: &str = "sandbox-viettelpost-webhook";
pub const VNPOST_USERNAME: &str = "sandbox";
pub const VNPOST_PASSWORD: &str = "sandbox";
pub const VNPOST_CUSTOMER_CODE: &str = "T000000001";

/// Public by design: see fixtures/sandbox/README.md.
const VNPOST_SIMULATOR_KEY: &str = include_str!("../../fixtures/sandbox/vnpost-simulator-key.pem");

/// Where a simulator's order serial starts: milliseconds since the epoch, modulo `modulus`,
/// so a simulator restarted on the same database never hands out a number it gave before,
/// as long as it gave fewer than 1,000 a second (the benchmarks give a few hundred; tenths
/// of a second were too coarse for them) and short of a wrap-around (VNPost's 80,000,000
/// serials last 22 hours, Viettel Post's 900,000,000 ten days).
pub fn clock_serial(modulus: u64) -> u64 {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    u64::try_from(millis % u128::from(modulus.max(1))).unwrap_or(0)
}

/// Where a courier's simulator lives under the service's base URL.
pub fn simulator_path(courier: Courier) -> String {
    format!("/sim/{}", courier.as_str())
}

pub fn vnpost_simulator_key() -> Result<RsaPrivateKey, String> {
    RsaPrivateKey::from_pkcs8_pem(VNPOST_SIMULATOR_KEY)
        .map_err(|e| format!("sandbox VNPost simulator key: {e}"))
}

/// The public half, which the VNPost adapter verifies webhooks with in sandbox mode.
pub fn vnpost_simulator_public_key_pem() -> Result<String, String> {
    use rsa::pkcs8::{EncodePublicKey, LineEnding};
    vnpost_simulator_key()?
        .to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| format!("sandbox VNPost simulator key: {e}"))
}

/// Both courier simulators, sending their webhooks to this service, and the SMS gateway
/// simulator.
#[derive(Clone)]
pub struct Simulators {
    pub viettelpost: viettelpost::sim::SimState,
    pub vnpost: Arc<vnpost::sim::SimState>,
    pub sms: crate::notify::sms::sim::SmsSim,
}

impl Simulators {
    /// `service_base`: where this service answers, e.g. `http://127.0.0.1:8080`.
    pub fn new(service_base: &str, settings: &SimulatorSettings) -> Result<Self, String> {
        let webhook = |courier: Courier| {
            Some(format!(
                "{}/v1/webhooks/{}",
                service_base.trim_end_matches('/'),
                courier.as_str()
            ))
        };
        let autopilot = settings
            .autopilot
            .then(|| std::time::Duration::from_millis(settings.step_ms));
        let viettelpost = viettelpost::sim::SimState::new(viettelpost::sim::SimConfig {
            username: VIETTEL_USERNAME.into(),
            password: VIETTEL_PASSWORD.into(),
            webhook_token: VIETTEL_WEBHOOK_TOKEN.into(),
            webhook_url: webhook(Courier::Viettelpost),
            token_ttl: std::time::Duration::from_secs(24 * 3600),
            autopilot,
        });
        let vnpost = vnpost::sim::SimState::with_key(
            vnpost::sim::SimConfig {
                username: VNPOST_USERNAME.into(),
                password: VNPOST_PASSWORD.into(),
                customer_code: VNPOST_CUSTOMER_CODE.into(),
                webhook_url: webhook(Courier::Vnpost),
                autopilot,
            },
            vnpost_simulator_key()?,
        )?;
        Ok(Self {
            viettelpost,
            vnpost: Arc::new(vnpost),
            sms: crate::notify::sms::sim::SmsSim::new(),
        })
    }

    /// Mounts the couriers' under `/sim/<courier>` and the SMS gateway's under `/sim/sms`.
    pub fn configure(&self) -> impl FnOnce(&mut web::ServiceConfig) + use<> {
        let (viettel, vnpost) = (self.viettelpost.clone(), self.vnpost.clone());
        let sms = self.sms.clone();
        move |cfg| {
            cfg.service(
                web::scope(&simulator_path(Courier::Viettelpost))
                    .configure(viettelpost::sim::configure(viettel)),
            )
            .service(
                web::scope(&simulator_path(Courier::Vnpost))
                    .configure(vnpost::sim::configure(vnpost)),
            )
            .service(
                web::scope(crate::notify::sms::sim::SIM_PATH)
                    .configure(crate::notify::sms::sim::configure(sms)),
            );
        }
    }
}
