//! Request middleware: request logs and metrics (`observe`), security headers, the rendering
//! of errors into pages or JSON in the visitor's language (`render_errors`), and a deadline
//! on request bodies (`body_deadline`).

use std::cell::RefCell;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::{StatusCode, header};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{Error, HttpMessage, HttpResponse, web};
use futures_util::Stream;

use crate::app::auth::csrf::{NewCsrfCookie, csrf_cookie};
use crate::app::metrics;
use crate::app::state::AppState;
use crate::error::{AppError, cause_chain, message_keys_for_status};
use crate::i18n::{Lang, t, tf};
use crate::views::{PageContext, errors::error_page, layout::urlencode};

/// Logs each request by route pattern (so codes and tokens in paths never reach the log),
/// records metrics, and sets a CSRF cookie created while handling the request.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let method = req.method().clone();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let mut res = next.call(req).await?;

    let route = res.request().match_pattern();
    let status = res.status().as_u16();
    let pending_cookie = res.request().extensions().get::<NewCsrfCookie>().cloned();
    if let (Some(cookie), Some(state)) = (pending_cookie, &state) {
        // Only fails for invalid header values, which a generated token cannot produce.
        let _ = res
            .response_mut()
            .add_cookie(&csrf_cookie(&cookie.0, state.settings.is_https()));
    }
    let seconds = started.elapsed().as_secs_f64();
    if let Some(state) = &state {
        state
            .metrics
            .observe(&method, route.as_deref(), status, seconds);
    }
    // The same bounded labels as the metrics: a made-up method cannot flood the log either.
    tracing::info!(
        target: "khaosat::request",
        method = metrics::method_label(&method),
        route = route.as_deref().unwrap_or(metrics::UNMATCHED_ROUTE),
        status,
        ms = format_args!("{:.2}", seconds * 1000.0),
    );
    Ok(res)
}

/// Admission control (see `app::admission`): a request waits briefly for its turn or is
/// refused with `503` and `Retry-After` before its handler runs, so a refusal never follows a
/// change. Health checks, metrics and hashed assets pass without a turn: they are cheap, and a
/// balancer or a scraper must still hear from a server that is at capacity.
pub async fn admission(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let path = req.path();
    let exempt =
        matches!(path, "/healthz" | "/readyz" | "/metrics") || path.starts_with("/assets/");
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let Some(state) = state.filter(|_| !exempt) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    match state.admission.admit().await {
        Ok(_turn) => Ok(next.call(req).await?.map_into_boxed_body()),
        Err(_) => Ok(req.error_response(AppError::Overloaded)),
    }
}

/// The Content-Security-Policy of every page: only this site's own styles and images, no
/// script at all (the pages need none), no framing, forms posting only here.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Adds the security headers to every response. `Referrer-Policy: no-referrer` matters here:
/// respondent URLs carry access codes, which must not travel to other sites.
///
/// Nothing may be cached unless its handler says so: a response without `Cache-Control` gets
/// `no-store`, so staff pages, unpublished results, downloads, API answers and respondent
/// pages (whose URLs carry codes) never stay in a shared or browser cache. Hashed assets, and
/// any page that is public on purpose, set their own `Cache-Control` and keep it.
pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let https = req
        .app_data::<web::Data<AppState>>()
        .is_some_and(|s| s.settings.is_https());
    let mut res = next.call(req).await?;
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        header::HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_FRAME_OPTIONS,
        header::HeaderValue::from_static("DENY"),
    );
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("no-store"),
        );
    }
    if https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            header::HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    Ok(res)
}

/// Replaces the plain body of every failed request with a helpful page (or JSON under
/// `/api/`), logs the cause chain of server errors, and sends browsers that need to log in
/// to the login page.
pub async fn render_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let res = next.call(req).await?;
    let Some(error) = res.response().error() else {
        return Ok(res.map_into_boxed_body());
    };
    let status = res.status();
    let app_error = error.as_error::<AppError>();
    // A request refused by admission control is the server working as designed, not a
    // failure: it is counted in the metrics by its status, and logging each one would add
    // work exactly when the server has none to spare.
    if status.is_server_error() && !matches!(app_error, Some(AppError::Overloaded)) {
        let chain = match app_error {
            Some(e) => cause_chain(e),
            None => error.to_string(),
        };
        tracing::error!(status = status.as_u16(), error = %chain, "request failed");
    }
    let (title_key, body_key) = app_error
        .map(AppError::message_keys)
        .unwrap_or_else(|| message_keys_for_status(status));
    let request = res.request().clone();
    let lang = Lang::of_request(&request);

    if request.path().starts_with("/api/") {
        let body = serde_json::json!({
            "error": { "status": status.as_u16(), "title": t(lang, title_key), "detail": t(lang, body_key) }
        });
        let mut response = HttpResponse::build(status);
        copy_header(&res, &mut response, header::RETRY_AFTER);
        return Ok(res.into_response(response.json(body)));
    }

    if matches!(app_error, Some(AppError::LoginRequired)) {
        let next_path = request
            .uri()
            .path_and_query()
            .map_or_else(|| request.path().to_owned(), |pq| pq.as_str().to_owned());
        let location = format!("/admin/login?next={}", urlencode(&next_path));
        let response = HttpResponse::SeeOther()
            .insert_header((header::LOCATION, location))
            .finish();
        return Ok(res.into_response(response));
    }

    let extra = match app_error {
        Some(AppError::TooManyRequests { retry_after_secs }) => {
            let minutes = ((retry_after_secs + 59) / 60).max(1).to_string();
            Some(tf(lang, "error.too_many.retry", &[("minutes", &minutes)]))
        }
        _ => None,
    };
    let ctx = PageContext::new(&request, None);
    let page = error_page(&ctx, status.as_u16(), title_key, body_key, extra.as_deref());
    let mut response = HttpResponse::build(status);
    response.content_type("text/html; charset=utf-8");
    copy_header(&res, &mut response, header::RETRY_AFTER);
    if status == StatusCode::SERVICE_UNAVAILABLE || status.is_server_error() {
        response.insert_header((header::CACHE_CONTROL, "no-store"));
    }
    Ok(res.into_response(response.body(page.into_string())))
}

fn copy_header<B>(
    from: &ServiceResponse<B>,
    to: &mut actix_web::HttpResponseBuilder,
    name: header::HeaderName,
) {
    if let Some(value) = from.headers().get(&name) {
        to.insert_header((name, value.clone()));
    }
}

/// Time every request body gets before it must keep up [`REQUEST_BODY_MIN_RATE`]. actix has
/// no body timeout of its own, so without this a body sent a byte at a time holds its
/// connection (and handler) for as long as the sender likes.
pub const REQUEST_BODY_GRACE: Duration = Duration::from_secs(10);

/// The slowest average rate, in bytes per second, at which a body may arrive after
/// [`REQUEST_BODY_GRACE`]: far below any real connection (an upload over a weak mobile link
/// still sends kilobytes a second), far above a deliberate trickle.
pub const REQUEST_BODY_MIN_RATE: u64 = 1024;

/// Where [`BodyDeadline`] leaves the rest of a body that arrived too slowly.
type Unread = Rc<RefCell<Option<Payload>>>;

/// Puts every request body under [`BodyDeadline`], whichever handler reads it.
pub async fn body_deadline(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let unread = Unread::default();
    let payload = req.take_payload();
    req.set_payload(Payload::Stream {
        payload: Box::pin(BodyDeadline::new(payload, unread.clone())),
    });
    let res = next.call(req).await?;
    let rest = unread.borrow_mut().take();
    Ok(match rest {
        None => res.map_into_left_body(),
        Some(rest) => res
            .map_body(|_, body| KeepUnread {
                body: body.boxed(),
                _unread: rest,
            })
            .map_into_right_body(),
    })
}

/// A response body carrying the rest of a too-slow request body until it is written. actix
/// closes a connection whose request body is unread when the response ends; had the body
/// been dropped, it would instead read and discard a chunked body to its end, however slowly
/// it trickles in.
struct KeepUnread {
    body: BoxBody,
    _unread: Payload,
}

impl MessageBody for KeepUnread {
    type Error = Box<dyn std::error::Error>;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_next(cx)
    }
}

/// A request body that fails with a timeout once it falls behind schedule: all of it by
/// [`REQUEST_BODY_GRACE`] plus one second per [`REQUEST_BODY_MIN_RATE`] bytes received. The
/// handler's read then fails, the request is answered with an error and, its body unread,
/// the connection closed.
struct BodyDeadline {
    inner: Payload,
    started: tokio::time::Instant,
    received: u64,
    timer: Pin<Box<tokio::time::Sleep>>,
    unread: Unread,
    expired: bool,
}

impl BodyDeadline {
    fn new(inner: Payload, unread: Unread) -> Self {
        let started = tokio::time::Instant::now();
        Self {
            inner,
            started,
            received: 0,
            timer: Box::pin(tokio::time::sleep_until(started + REQUEST_BODY_GRACE)),
            unread,
            expired: false,
        }
    }
}

impl Stream for BodyDeadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.expired {
            return Poll::Ready(None);
        }
        match Pin::new(&mut self.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                self.received += chunk.len() as u64;
                let earned = Duration::from_secs(self.received / REQUEST_BODY_MIN_RATE);
                let deadline = self.started + REQUEST_BODY_GRACE + earned;
                self.timer.as_mut().reset(deadline);
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Pending => match self.timer.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    self.expired = true;
                    let rest = std::mem::replace(&mut self.inner, Payload::None);
                    *self.unread.borrow_mut() = Some(rest);
                    Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "the request body arrived too slowly",
                    )))))
                }
                Poll::Pending => Poll::Pending,
            },
            done => done,
        }
    }
}
