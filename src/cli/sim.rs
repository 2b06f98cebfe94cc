//! `civicpost sim`: both courier simulators and the SMS gateway simulator on their own ports,
//! for a service that is not in sandbox mode (or for a partner's integration tests). They
//! accept the sandbox credentials and the couriers send webhooks to `--webhook-base`.

use clap::Args;

use super::CliResult;
use crate::config::Settings;
use crate::couriers::sandbox::{
    Simulators, VIETTEL_PASSWORD, VIETTEL_USERNAME, VIETTEL_WEBHOOK_TOKEN, VNPOST_CUSTOMER_CODE,
    VNPOST_PASSWORD, VNPOST_USERNAME,
};

#[derive(Args)]
pub struct SimArgs {
    /// Where the Viettel Post simulator listens.
    #[arg(long, default_value = "127.0.0.1:8091")]
    viettelpost: String,
    /// Where the VNPost simulator listens.
    #[arg(long, default_value = "127.0.0.1:8092")]
    vnpost: String,
    /// Where the SMS gateway simulator (eSMS protocol) listens.
    #[arg(long, default_value = "127.0.0.1:8093")]
    sms: String,
    /// The service webhooks go to (`/v1/webhooks/<courier>` is added); default
    /// app.public_base_url.
    #[arg(long, value_name = "URL")]
    webhook_base: Option<String>,
}

pub fn run(settings: Settings, args: SimArgs) -> CliResult {
    let base = args
        .webhook_base
        .unwrap_or_else(|| settings.app.public_base_url.clone());
    let sims = Simulators::new(&base, &settings.couriers.simulator)?;
    println!(
        "Viettel Post simulator: http://{}  (username {VIETTEL_USERNAME}, password \
         {VIETTEL_PASSWORD}, webhook token {VIETTEL_WEBHOOK_TOKEN})",
        args.viettelpost
    );
    println!(
        "VNPost simulator:       http://{}  (username {VNPOST_USERNAME}, password \
         {VNPOST_PASSWORD}, customer code {VNPOST_CUSTOMER_CODE}; webhook key: \
         GET /_control/public-key)",
        args.vnpost
    );
    println!(
        "SMS gateway simulator:  http://{}{}/  (profile esms, ApiKey {}, SecretKey {}, \
         Brandname {}; GET /_control/messages)",
        args.sms,
        crate::notify::sms::sim::SEND_PATH,
        crate::notify::sms::sim::API_KEY,
        crate::notify::sms::sim::SECRET_KEY,
        crate::notify::sms::sim::BRANDNAME
    );
    println!("webhooks go to {base}/v1/webhooks/<courier>");
    actix_web::rt::System::new().block_on(async move {
        let viettel = sims.viettelpost.clone();
        let vnpost = sims.vnpost.clone();
        let one = actix_web::HttpServer::new(move || {
            actix_web::App::new().configure(crate::couriers::viettelpost::sim::configure(
                viettel.clone(),
            ))
        })
        .bind(&args.viettelpost)?
        .run();
        let two = actix_web::HttpServer::new(move || {
            actix_web::App::new().configure(crate::couriers::vnpost::sim::configure(vnpost.clone()))
        })
        .bind(&args.vnpost)?
        .run();
        let sms = sims.sms.clone();
        let three = actix_web::HttpServer::new(move || {
            actix_web::App::new().configure(crate::notify::sms::sim::configure(sms.clone()))
        })
        .bind(&args.sms)?
        .run();
        tokio::try_join!(one, two, three).map(|_| ())
    })?;
    Ok(())
}
