//! The HTTP baseline of the benchmark suite (`bench/run.sh`): actix-web answering a fixed
//! small JSON body with no database, cache or middleware, the most a handler of this service
//! could reach on this machine. Usage: `bare_actix 127.0.0.1:PORT`.

use actix_web::{App, HttpResponse, HttpServer, web};

async fn answer() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(r#"{"tracking_code":"ABCD2345XY","state":"in_transit"}"#)
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8099".to_owned());
    HttpServer::new(|| App::new().default_service(web::to(answer)))
        .bind(addr)?
        .run()
        .await
}
