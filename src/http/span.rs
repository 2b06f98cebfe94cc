//! The root span of each request: method, route pattern, status and request id, but not the
//! path or the query. Paths carry delivery ids and tracking codes, and the public tracking
//! form carries a dossier code and phone digits in its query: none of that belongs in logs.

use actix_web::Error;
use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use tracing::Span;
use tracing::field::Empty;
use tracing_actix_web::{DefaultRootSpanBuilder, RequestId, RootSpanBuilder};

pub struct RouteSpan;

impl RootSpanBuilder for RouteSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let route = request
            .match_pattern()
            .unwrap_or_else(|| "unmatched".into());
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .map(ToString::to_string)
            .unwrap_or_default();
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = %route,
            http.client_ip = %request.connection_info().realip_remote_addr().unwrap_or(""),
            http.status_code = Empty,
            otel.kind = "server",
            otel.status_code = Empty,
            request_id = %request_id,
            exception.message = Empty,
            exception.details = Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::{App, HttpResponse, test, web};
    use std::sync::{Arc, Mutex};
    use tracing_actix_web::TracingLogger;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| std::io::ErrorKind::Other)?
                .extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[actix_web::test]
    async fn logs_carry_the_route_not_the_path_or_query() {
        let captured = Captured::default();
        let sink = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            // No timestamps: their microseconds could contain the digits looked for below.
            .without_time()
            .with_writer(move || sink.clone())
            .with_span_list(true)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let app = test::init_service(App::new().wrap(TracingLogger::<RouteSpan>::new()).route(
            "/track/{code}",
            web::get().to(|| async {
                tracing::info!("looked up");
                HttpResponse::Ok().finish()
            }),
        ))
        .await;
        let req = test::TestRequest::get()
            .uri("/track/ABCD2345XY?dossier=000.00.01.H29-1&phone4=5678")
            .to_request();
        let _ = test::call_service(&app, req).await;
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert!(text.contains("/track/{code}"), "{text}");
        for secret in ["ABCD2345XY", "5678", "H29-1"] {
            assert!(!text.contains(secret), "{secret} in logs: {text}");
        }
    }
}
