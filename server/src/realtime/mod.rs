//! Socket.IO on the axum server: rooms per tenant, and the broadcaster the
//! service layer uses to push events.
//!
//! The handshake authenticates: an API key in the auth payload
//! (`{"apiKey": "hb_…"}`) or the `Authorization` header, else the session
//! cookie, else (development only) the demo user; anything else is refused
//! with a CONNECT error. Socket handlers only translate between Socket.IO and
//! the service layer: `join-tenant` asks [`Services::join_tenant`] whether
//! this socket's caller belongs to the tenant (checked again at every join, so
//! a revoked key or ended session joins nothing more) and with what count.
//!
//! With `REDIS_URL` set, room broadcasts travel between server processes
//! through Redis (socketioxide-redis's adapter on our [`RedisLink`], RESP3): a
//! webhook taken by one node reaches the dashboards connected to every node.
//! Without it, one process.

mod broadcast;

use std::sync::Arc;

use broadcast::sockets_room;
pub use broadcast::Broadcaster;

use app::models::{events, JoinAck, TenantId, UserId};
use axum::{
    extract::{OriginalUri, Request},
    http::{HeaderMap, HeaderName, HeaderValue, Uri},
    Router,
};
use serde_json::Value;
use socketioxide::{
    adapter::{Adapter, Emitter, LocalAdapter},
    extract::{AckSender, Event, SocketRef, TryData},
    handler::ConnectHandler,
    layer::SocketIoLayer,
    SocketIo,
};
use socketioxide_redis::{CustomRedisAdapter, RedisAdapterConfig, RedisAdapterCtr};

use crate::{
    config::Mode,
    error::ApiError,
    request,
    service::{ctx::Credential, Services},
    shared::RedisLink,
};

/// What a socket authenticated with at its handshake.
#[derive(Debug, Clone)]
struct SocketAuth(Credential);

/// A socket's budget of events it may send (a token bucket that may go into
/// debt: events past the budget are refused, and a socket that keeps sending
/// anyway is disconnected).
#[derive(Debug, Clone)]
struct EventBudget(Arc<std::sync::Mutex<Budget>>);

#[derive(Debug)]
struct Budget {
    tokens: f64,
    last: std::time::Instant,
}

/// What the budget says of one more event.
#[derive(Debug, PartialEq, Eq)]
enum Spend {
    Allowed,
    Refused,
    /// Refused, and the socket is to be disconnected.
    Abusive,
}

impl Budget {
    /// Spends one event at `now`: refilled at `rate` per second up to `2 × rate`;
    /// refused below one token; abusive once `2 × rate` more were refused.
    fn spend(&mut self, rate: f64, now: std::time::Instant) -> Spend {
        let burst = 2.0 * rate;
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * rate).min(burst);
        self.last = now;
        self.tokens -= 1.0;
        if self.tokens >= 0.0 {
            Spend::Allowed
        } else if self.tokens < -burst {
            Spend::Abusive
        } else {
            Spend::Refused
        }
    }
}

/// The room of every socket of one API key.
pub fn key_room(key_id: &str) -> String {
    format!("principal:key:{key_id}")
}

/// The room of every socket of one signed-in user, in every tenant.
pub fn principal_user_room(user_id: &str) -> String {
    format!("principal:user:{user_id}")
}

/// The room of every socket opened with one session (by its token's hash).
pub fn session_room(token_hash: &str) -> String {
    format!("session:{token_hash}")
}

/// The room of the development demo user's sockets.
pub(crate) const DEMO_ROOM: &str = "principal:demo";

/// The Socket.IO room of a tenant.
pub fn tenant_room(tenant_id: &str) -> String {
    format!("tenant:{tenant_id}")
}

/// The room of one user's sockets in a tenant (personal notifications).
pub fn user_room(tenant_id: &str, user_id: &str) -> String {
    format!("tenant:{tenant_id}:user:{user_id}")
}

/// The room of one reader's sockets in a tenant: a user's, or (`None`) those
/// of programs acting for the tenant itself.
pub fn reader_room(tenant_id: &str, reader: Option<&str>) -> String {
    match reader {
        Some(user_id) => user_room(tenant_id, user_id),
        None => format!("tenant:{tenant_id}:tenant-reader"),
    }
}

type Redis = CustomRedisAdapter<Emitter, RedisLink>;

/// The Socket.IO server, on one process or across processes through Redis.
#[derive(Clone)]
enum Io {
    Local(SocketIo<LocalAdapter>),
    Redis(SocketIo<Redis>),
}

/// The Socket.IO layer to put on the router.
pub enum SocketLayer {
    Local(SocketIoLayer<LocalAdapter>),
    Redis(SocketIoLayer<Redis>),
}

impl SocketLayer {
    /// `router` with Socket.IO on `/socket.io/`.
    pub fn apply<S: Clone + Send + Sync + 'static>(self, router: Router<S>) -> Router<S> {
        let router = match self {
            SocketLayer::Local(layer) => router.layer(layer),
            SocketLayer::Redis(layer) => router.layer(layer),
        };
        router.layer(axum::middleware::map_request(own_request_head))
    }
}

/// Where Socket.IO listens.
pub const SOCKET_PATH: &str = "/socket.io";

/// Request headers that nothing on a Socket.IO connection reads; dropped
/// because a socket keeps its handshake's request head for its whole life.
const UNUSED_HEADERS: [&str; 9] = [
    "user-agent",
    "accept",
    "accept-language",
    "accept-encoding",
    "cache-control",
    "pragma",
    "sec-websocket-extensions",
    "sec-fetch-mode",
    "sec-fetch-site",
];

/// Gives a Socket.IO request a head of its own.
///
/// Engine.IO and Socket.IO keep the handshake request's head (`Parts`) for
/// the socket's life, and hyper parses header values and the URI as slices of
/// its connection read buffer (8 KiB, often grown to 16): keeping any one of
/// them — or axum's `OriginalUri` extension, a clone of the URI — keeps that
/// whole buffer. Copying what is kept into small owned values lets the buffer
/// go when hyper hands the connection over.
async fn own_request_head(mut req: Request) -> Request {
    if !req.uri().path().starts_with(SOCKET_PATH) {
        return req;
    }
    let shared = std::mem::take(req.headers_mut());
    let mut owned = HeaderMap::with_capacity(shared.len());
    for (name, value) in &shared {
        if UNUSED_HEADERS.contains(&name.as_str()) || name.as_str().starts_with("sec-ch-") {
            continue;
        }
        if let Ok(value) = HeaderValue::from_bytes(value.as_bytes()) {
            owned.append(HeaderName::clone(name), value);
        }
    }
    *req.headers_mut() = owned;
    if let Ok(uri) = req.uri().to_string().parse::<Uri>() {
        // axum keeps a clone of the URI as it arrived in the extensions, which the socket keeps too.
        if let Some(OriginalUri(original)) = req.extensions_mut().get_mut::<OriginalUri>() {
            *original = uri.clone();
        }
        *req.uri_mut() = uri;
    }
    req
}

/// The Socket.IO settings: a small WebSocket read buffer (dashboards send
/// little: joins, acks, pongs), so that idle connections cost little memory.
fn builder() -> socketioxide::SocketIoBuilder {
    SocketIo::builder().ws_read_buffer_size(1024)
}

/// The Socket.IO server before its handlers are attached (they need the
/// service layer, which needs the broadcaster).
pub struct Unattached {
    io: Io,
}

/// Builds the Socket.IO layer and the broadcaster: across processes through
/// Redis when a link to it is given, else in this process.
pub fn layer(redis: Option<RedisLink>) -> (SocketLayer, Unattached, Broadcaster) {
    let (layer, io) = match &redis {
        None => {
            let (layer, io) = builder().build_layer();
            (SocketLayer::Local(layer), Io::Local(io))
        }
        Some(link) => {
            let adapter = RedisAdapterCtr::new_with_driver(link.clone(), RedisAdapterConfig::default());
            let (layer, io) = builder().with_adapter::<Redis>(adapter).build_layer();
            (SocketLayer::Redis(layer), Io::Redis(io))
        }
    };
    let broadcaster = Broadcaster { io: io.clone(), redis, heard: broadcast::heard() };
    (layer, Unattached { io }, broadcaster)
}

/// A broadcaster for a process that serves no sockets (administration commands).
/// Its default namespace exists (with no sockets), so an emit reaches nobody instead of panicking.
pub fn detached_broadcaster() -> Broadcaster {
    let (_, io) = SocketIo::builder().build_layer();
    io.ns("/", async |_socket: SocketRef<LocalAdapter>| {});
    Broadcaster { io: Io::Local(io), redis: None, heard: broadcast::heard() }
}

/// The tenant id of a `join-tenant`/`leave-tenant` payload: the seed's client
/// sends the bare id; objects `{ "tenantId": … }` are accepted too.
pub fn tenant_arg(data: &Value) -> Option<String> {
    match data {
        Value::String(s) => Some(s.clone()),
        Value::Object(map) => map.get("tenantId").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    }
}

/// Registers the namespace and its event handlers.
///
/// Handlers are registered in a connect *middleware*: it runs before the
/// server answers the client's CONNECT, whereas the connect handler runs in a
/// spawned task, so an event sent right after connecting could beat it.
pub async fn attach(io: Unattached, services: Arc<Services>) -> Result<(), String> {
    match io.io {
        Io::Local(io) => {
            io.ns("/", (async |_socket: SocketRef<LocalAdapter>| {}).with(middleware::<LocalAdapter>(services)));
            Ok(())
        }
        Io::Redis(io) => io
            .ns("/", (async |_socket: SocketRef<Redis>| {}).with(middleware::<Redis>(services)))
            .await
            .map_err(|e| format!("Redis adapter: {e}")),
    }
}

/// The work of a handshake: `Err` refuses the connection with its reason.
type Handshake = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send>>;

/// The connect middleware: authenticates the handshake, then registers the handlers.
fn middleware<A: Adapter>(
    services: Arc<Services>,
) -> impl Fn(SocketRef<A>, TryData<Value>) -> Handshake + Clone + Send + Sync + 'static {
    move |socket: SocketRef<A>, TryData(auth): TryData<Value>| {
        let services = services.clone();
        Box::pin(async move {
            let refused = |e: ApiError| {
                tracing::debug!(error = %e, "socket refused at its handshake");
                e.public_message()
            };
            let (credential, rooms) = authenticate(&socket, auth.ok().as_ref(), &services).await.map_err(refused)?;
            // A cap per principal on this node: one key or user cannot hold the server's sockets.
            let open = socket.within(rooms[0].clone()).sockets().len();
            if open >= services.config().max_sockets_per_principal {
                return Err(refused(ApiError::Forbidden(format!(
                    "Too many open connections for this caller (at most {})",
                    services.config().max_sockets_per_principal
                ))));
            }
            // The rooms a revocation disconnects (the first is the principal's own);
            // checked once more after joining them, so a revocation that came while
            // the first check ran is not missed.
            socket.join(rooms);
            services.caller(&credential).await.map_err(refused)?;
            socket.extensions.insert(SocketAuth(credential));
            let rate = f64::from(services.config().socket_event_rate);
            socket.extensions.insert(EventBudget(Arc::new(std::sync::Mutex::new(Budget {
                tokens: 2.0 * rate,
                last: std::time::Instant::now(),
            }))));
            register_handlers(socket, services);
            Ok(())
        })
    }
}

/// The credential of a socket's handshake, checked now, and the rooms that
/// name its principal (its own first, then its session's).
async fn authenticate<A: Adapter>(
    socket: &SocketRef<A>,
    auth: Option<&Value>,
    services: &Services,
) -> Result<(Credential, Vec<String>), ApiError> {
    let development = services.config().mode == Mode::Development;
    let presented = request::presented_by(&socket.req_parts().headers, auth, development);
    let credential = presented.credential.clone().ok_or(ApiError::Unauthorized("Sign-in or an API key is required"))?;
    // A page of another site may not ride on the browser's cookie (cross-site WebSocket hijacking).
    if matches!(credential, Credential::Session(_)) {
        services.refuse_foreign_origin(&presented, "This origin may not connect with the session cookie")?;
    }
    let caller = services.caller(&credential).await?;
    let mut rooms = vec![sockets_room(caller.principal.sockets())];
    if let Credential::Session(token) = &credential {
        rooms.push(session_room(&services.session_token_hash(token)));
    }
    Ok((credential, rooms))
}

/// Spends one of the socket's events: `Err` (the answer to its ack) when it
/// is over its budget; a socket far over it is disconnected.
fn admit<A: Adapter>(socket: &SocketRef<A>, services: &Services) -> Result<(), ApiError> {
    let Some(EventBudget(budget)) = socket.extensions.get::<EventBudget>() else {
        return Ok(());
    };
    let rate = f64::from(services.config().socket_event_rate);
    let spent = budget.lock().unwrap_or_else(|p| p.into_inner()).spend(rate, std::time::Instant::now());
    match spent {
        Spend::Allowed => Ok(()),
        Spend::Refused => Err(ApiError::RateLimited(1)),
        Spend::Abusive => {
            tracing::warn!(socket = %socket.id, "socket disconnected: too many events");
            let _ = socket.clone().disconnect();
            Err(ApiError::RateLimited(1))
        }
    }
}

/// A refused event's ack (see [`ApiError::ack`]).
fn refusal(e: &ApiError) -> Value {
    e.ack()
}

/// The socket's one handler: every event a dashboard sends, dispatched by its name. One
/// handler per socket rather than one per event (each a boxed handler in a map of its own):
/// every open connection holds them for its whole life. Each event spends from the socket's
/// budget, an unknown one too, whose ack says `not_found`.
fn register_handlers<A: Adapter>(socket: SocketRef<A>, services: Arc<Services>) {
    socket.on_fallback(
        move |socket: SocketRef<A>, Event(event): Event, TryData(data): TryData<Value>, ack: AckSender<A>| {
            let services = services.clone();
            // An event sent with no argument reads as `null` (each event then answers what it lacks);
            // with `Data`, socketioxide would drop it, and the client's ack would never come.
            let data = data.unwrap_or(Value::Null);
            async move {
                if let Err(e) = admit(&socket, &services) {
                    let _ = ack.send(&refusal(&e));
                    return;
                }
                let _ = match event.as_str() {
                    events::JOIN_TENANT => ack.send(&on_join(&socket, &services, &data).await),
                    events::NOTIFICATION_RECEIVED => ack.send(&match received(&socket, &services, &data).await {
                        Ok(first) => serde_json::json!({"ok": true, "firstDelivery": first}),
                        Err(e) => refusal(&e),
                    }),
                    events::LEAVE_TENANT => ack.send(&on_leave(&socket, &data)),
                    _ => ack.send(&refusal(&ApiError::NotFound("Event"))),
                };
            }
        },
    );
}

/// `join-tenant`: the ack says whether the caller joined, with its unread count and what it
/// missed since the notification it names.
async fn on_join<A: Adapter>(socket: &SocketRef<A>, services: &Services, data: &Value) -> JoinAck {
    let last_seen = data.get("lastSeenId").and_then(Value::as_str);
    match tenant_arg(data).map(|t| t.trim().to_ascii_lowercase()) {
        None => JoinAck {
            ok: false,
            error: Some("tenantId is required".into()),
            code: Some("validation_failed".into()),
            ..Default::default()
        },
        Some(tenant_id) => match join(socket, services, &tenant_id, last_seen).await {
            Ok(joined) => JoinAck {
                ok: true,
                error: None,
                code: None,
                unread_count: Some(joined.unread_count),
                missed: joined.missed,
                refetch: joined.refetch.then_some(true),
            },
            Err(e) => JoinAck {
                ok: false,
                error: Some(e.public_message()),
                code: Some(e.code().into()),
                ..Default::default()
            },
        },
    }
}

/// `leave-tenant`: the socket leaves the tenant's room and its reader's room in it.
fn on_leave<A: Adapter>(socket: &SocketRef<A>, data: &Value) -> JoinAck {
    if let Some(tenant_id) = tenant_arg(data) {
        let tenant_id = tenant_id.trim().to_ascii_lowercase();
        let prefix = tenant_room(&tenant_id);
        for room in socket.rooms().into_iter().filter(|r| r == &prefix || r.starts_with(&format!("{prefix}:"))) {
            socket.leave(room);
        }
    }
    JoinAck { ok: true, ..Default::default() }
}

/// What this socket authenticated with at its handshake.
fn credential_of<A: Adapter>(socket: &SocketRef<A>) -> Result<Credential, ApiError> {
    let SocketAuth(credential) =
        socket.extensions.get::<SocketAuth>().ok_or(ApiError::Unauthorized("Sign-in or an API key is required"))?;
    Ok(credential)
}

/// Asks the service layer whether this socket's caller may join `tenant_id`.
async fn join<A: Adapter>(
    socket: &SocketRef<A>,
    services: &Services,
    tenant_id: &str,
    last_seen: Option<&str>,
) -> Result<crate::service::dashboard::Joined, ApiError> {
    // The socket enters the tenant's and the reader's rooms once allowed, before its count is
    // taken; both in one call, so that no event finds it in one and not yet in the other.
    let enter = |tenant: &TenantId, reader: Option<&UserId>| {
        socket.join([tenant_room(tenant), reader_room(tenant, reader.map(UserId::as_str))]);
    };
    services.join_tenant(&credential_of(socket)?, tenant_id, last_seen, enter).await
}

/// `notification-received` `{tenantId, notificationId}`: records the delivery.
async fn received<A: Adapter>(socket: &SocketRef<A>, services: &Services, data: &Value) -> Result<bool, ApiError> {
    let credential = credential_of(socket)?;
    let field = |name: &str| data.get(name).and_then(Value::as_str).map(|s| s.trim().to_ascii_lowercase());
    let (Some(tenant_id), Some(id)) = (field("tenantId"), field("notificationId")) else {
        return Err(ApiError::Validation(vec![crate::error::FieldError::new(
            "notificationId",
            "tenantId and notificationId are required",
        )]));
    };
    let caller = services.caller(&credential).await?;
    services.notification_received(&caller, &tenant_id, &id).await
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    #[test]
    fn a_socket_budget_refuses_then_disconnects() {
        let t0 = Instant::now();
        let mut b = Budget { tokens: 20.0, last: t0 };
        for _ in 0..20 {
            assert_eq!(b.spend(10.0, t0), Spend::Allowed);
        }
        for _ in 0..20 {
            assert_eq!(b.spend(10.0, t0), Spend::Refused);
        }
        assert_eq!(b.spend(10.0, t0), Spend::Abusive);
        // A socket that stops and comes back later is served again.
        let mut b = Budget { tokens: 0.0, last: t0 };
        assert_eq!(b.spend(10.0, t0), Spend::Refused);
        assert_eq!(b.spend(10.0, t0 + Duration::from_secs(1)), Spend::Allowed);
    }
}
