//! The one Redis link every node shares ([`RedisLink`]):
//!
//! - the Socket.IO adapter's pub/sub (it implements socketioxide-redis's
//!   `Driver`), so a webhook taken by one node reaches dashboards on all;
//! - the limits and refresh windows of
//!   [`service::limits`](crate::service::limits) (it implements `SharedState`):
//!   GCRA buckets and windows, each one atomic Lua script on Redis's own
//!   clock, so nodes whose clocks differ still agree.
//!
//! The connection is redis-rs's `ConnectionManager` with automatic
//! resubscription: when Redis goes away and comes back, the link reconnects
//! and subscribes to its channels again by itself (socketioxide-redis's own
//! driver keeps one connection for good, so a node never heard the others
//! again after a Redis restart). A keeper task pings every [`KEEPER_EVERY`]
//! (at most [`PING_TIMEOUT`]): its verdict is the link's health, which
//! readiness reports and which sends broadcasts and limit checks straight to
//! this node alone while Redis is down, instead of each waiting on it. A
//! failed ping makes the manager reconnect, so a node that only listens
//! comes back too; after [`REBUILD_AFTER`] failures in a row the connection
//! is replaced outright and its channels subscribed again (a connection that
//! died without being closed is never reported as dropped).

use std::{
    collections::HashMap,
    sync::{Arc, LazyLock, RwLock},
    time::Duration,
};

use async_trait::async_trait;
use redis::{
    aio::{ConnectionManager, ConnectionManagerConfig},
    FromRedisValue, PushInfo, PushKind, Script,
};
use socketioxide_redis::drivers::{ChanItem, Driver, MessageStream};
use tokio::sync::mpsc;

use crate::service::limits::{SharedState, Unavailable};

/// The channel on which nodes tell each other that a tenant changed
/// (the message is its id; see [`crate::service::tenant_cache`]).
pub const TENANT_CHANGES: &str = "hookbell:tenant-changed";

/// How often the keeper pings Redis.
pub const KEEPER_EVERY: Duration = Duration::from_secs(1);
/// The longest the keeper's ping may take.
pub const PING_TIMEOUT: Duration = Duration::from_millis(500);
/// Failed pings in a row after which the connection is replaced.
pub const REBUILD_AFTER: u32 = 5;

/// GCRA: the bucket keeps its "theoretical arrival time" in microseconds of
/// Redis's clock. Returns 0 when allowed, else the microseconds to wait.
/// ARGV: microseconds per unit, burst, 1 to spend (0 to look only).
static TAKE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local per = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local new_tat = tat + per
local allow_at = new_tat - burst * per
if allow_at > now then return math.max(1, math.ceil(allow_at - now)) end
if ARGV[3] == '1' then
  redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1)
end
return 0
",
    )
});

/// Opens a window of ARGV[1] milliseconds: 0 when opened, else the milliseconds left of the open one.
static OPEN_WINDOW: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return 0 end
local left = redis.call('PTTL', KEYS[1])
if left < 1 then return 1 end
return left
",
    )
});

type Handlers = Arc<RwLock<HashMap<String, mpsc::Sender<ChanItem>>>>;

/// The shared Redis connection (cheap to clone: clones share it).
#[derive(Clone)]
pub struct RedisLink {
    inner: Arc<Inner>,
}

struct Inner {
    client: redis::Client,
    conn: RwLock<ConnectionManager>,
    handlers: Handlers,
    /// The keeper's last verdict.
    up: std::sync::atomic::AtomicBool,
    /// Times Redis answered again after it did not.
    epoch: std::sync::atomic::AtomicU64,
}

/// A Redis failure, as the Socket.IO adapter sees it.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct LinkError(#[from] redis::RedisError);

impl RedisLink {
    /// Connects to `url` (`REDIS_URL`; RESP3 is asked for, as pub/sub on a
    /// shared connection needs it) and starts the keeper.
    pub async fn connect(url: &str) -> Result<Self, String> {
        let url = if url.contains("protocol=") {
            url.to_owned()
        } else {
            format!("{url}{}protocol=resp3", if url.contains('?') { '&' } else { '?' })
        };
        let client = redis::Client::open(url).map_err(|e| format!("REDIS_URL: {e}"))?;
        let handlers: Handlers = Arc::default();
        let conn = manager(&client, &handlers).await.map_err(|e| format!("Redis: {e}"))?;
        let inner = Inner { client, conn: RwLock::new(conn), handlers, up: true.into(), epoch: 0.into() };
        let link = Self { inner: Arc::new(inner) };
        tokio::spawn(link.clone().keep());
        Ok(link)
    }

    /// The connection now (a clone shares it).
    fn conn(&self) -> ConnectionManager {
        self.inner.conn.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Whether Redis answered the keeper's last ping (at most [`KEEPER_EVERY`] ago).
    pub fn is_up(&self) -> bool {
        self.inner.up.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether Redis answers a PING now (at most [`PING_TIMEOUT`]).
    async fn ping(&self) -> bool {
        let mut conn = self.conn();
        let cmd = redis::cmd("PING");
        let ping = cmd.query_async::<String>(&mut conn);
        matches!(tokio::time::timeout(PING_TIMEOUT, ping).await, Ok(Ok(pong)) if pong == "PONG")
    }

    /// Pings every [`KEEPER_EVERY`] and keeps the verdict; replaces the
    /// connection after [`REBUILD_AFTER`] failures in a row.
    async fn keep(self) {
        let mut tick = tokio::time::interval(KEEPER_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failures = 0u32;
        loop {
            tick.tick().await;
            let up = self.ping().await;
            let was_up = self.inner.up.swap(up, std::sync::atomic::Ordering::Relaxed);
            if up {
                if !was_up {
                    self.inner.epoch.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    tracing::info!("Redis answers again: broadcasts and limits are shared across nodes again");
                }
                failures = 0;
                continue;
            }
            if was_up {
                tracing::warn!("Redis does not answer: this node works alone until it does");
            }
            failures += 1;
            if failures >= REBUILD_AFTER {
                failures = 0;
                self.rebuild().await;
            }
        }
    }

    /// A new connection in place of the current one, subscribed to every channel of the adapter.
    async fn rebuild(&self) {
        let Ok(Ok(mut fresh)) =
            tokio::time::timeout(Duration::from_secs(2), manager(&self.inner.client, &self.inner.handlers)).await
        else {
            return;
        };
        let channels: Vec<String> =
            self.inner.handlers.read().unwrap_or_else(|p| p.into_inner()).keys().cloned().collect();
        for chan in &channels {
            if fresh.subscribe(chan.as_str()).await.is_err() {
                return;
            }
        }
        *self.inner.conn.write().unwrap_or_else(|p| p.into_inner()) = fresh;
        tracing::info!(channels = channels.len(), "Redis connection replaced");
    }
}

impl RedisLink {
    /// The ids of tenants other nodes changed ([`TENANT_CHANGES`]).
    pub async fn tenant_changes(&self) -> Result<MessageStream<ChanItem>, LinkError> {
        Driver::subscribe(self, TENANT_CHANGES.to_owned(), 1024).await
    }
}

/// Drops from `services`' tenant cache each tenant another node changed.
pub async fn forget_changed_tenants(mut changes: MessageStream<ChanItem>, services: Arc<crate::service::Services>) {
    use futures_util::StreamExt;
    while let Some((_, id)) = changes.next().await {
        match std::str::from_utf8(&id).ok().and_then(app::models::TenantId::parse) {
            Some(id) => services.forget_tenant(&id),
            None => services.forget_all_tenants(),
        }
    }
}

/// A connection manager on `client` delivering pub/sub messages to `handlers`.
async fn manager(client: &redis::Client, handlers: &Handlers) -> redis::RedisResult<ConnectionManager> {
    let deliver = handlers.clone();
    let config = ConnectionManagerConfig::new()
        .set_push_sender(move |msg: PushInfo| {
            deliver_message(msg, &deliver);
            Ok::<(), std::convert::Infallible>(())
        })
        .set_automatic_resubscription()
        .set_connection_timeout(Some(Duration::from_secs(1)))
        .set_response_timeout(Some(Duration::from_secs(2)))
        .set_max_delay(Duration::from_secs(1));
    client.get_connection_manager_with_config(config).await
}

/// Pub/sub messages dropped because the adapter's stream was full, logged at most once a minute.
static STREAM_FULL: crate::telemetry::Throttle = crate::telemetry::Throttle::new(Duration::from_secs(60));

/// Hands a pub/sub message to the adapter's stream for its channel.
fn deliver_message(msg: PushInfo, handlers: &Handlers) {
    if !matches!(msg.kind, PushKind::Message | PushKind::SMessage) || msg.data.len() < 2 {
        return;
    }
    let mut data = msg.data.into_iter();
    let (Some(chan), Some(payload)) = (data.next(), data.next()) else { return };
    let (Ok(chan), Ok(payload)) = (String::from_redis_value(chan), Vec::<u8>::from_redis_value(payload)) else {
        return;
    };
    if let Some(tx) = handlers.read().unwrap_or_else(|p| p.into_inner()).get(&chan) {
        if tx.try_send((chan, payload)).is_err() {
            if let Some(unlogged) = STREAM_FULL.note() {
                tracing::warn!(unlogged, "Redis pub/sub stream full: a cross-node message was dropped");
            }
        }
    }
}

impl Driver for RedisLink {
    type Error = LinkError;

    async fn publish(&self, chan: String, val: Vec<u8>) -> Result<(), Self::Error> {
        redis::cmd("PUBLISH").arg(chan).arg(val).query_async::<redis::Value>(&mut self.conn()).await?;
        Ok(())
    }

    async fn subscribe(&self, chan: String, size: usize) -> Result<MessageStream<ChanItem>, Self::Error> {
        self.conn().subscribe(chan.as_str()).await?;
        let (tx, rx) = mpsc::channel(size);
        self.inner.handlers.write().unwrap_or_else(|p| p.into_inner()).insert(chan, tx);
        Ok(MessageStream::new(rx))
    }

    async fn unsubscribe(&self, chan: String) -> Result<(), Self::Error> {
        self.inner.handlers.write().unwrap_or_else(|p| p.into_inner()).remove(&chan);
        self.conn().unsubscribe(chan.as_str()).await?;
        Ok(())
    }

    async fn num_serv(&self, chan: &str) -> Result<u16, Self::Error> {
        let (_, count): (String, u16) =
            redis::cmd("PUBSUB").arg("NUMSUB").arg(chan).query_async(&mut self.conn()).await?;
        Ok(count)
    }
}

fn unavailable(e: redis::RedisError) -> Unavailable {
    Unavailable(e.to_string())
}

#[async_trait]
impl SharedState for RedisLink {
    fn healthy(&self) -> bool {
        self.is_up()
    }

    fn epoch(&self) -> u64 {
        self.inner.epoch.load(std::sync::atomic::Ordering::SeqCst)
    }

    async fn announce_tenant_change(&self, tenant_id: &str) -> Result<(), Unavailable> {
        let mut conn = self.conn();
        let mut publish = redis::cmd("PUBLISH");
        publish.arg(TENANT_CHANGES).arg(tenant_id);
        publish.query_async::<redis::Value>(&mut conn).await.map(|_| ()).map_err(unavailable)
    }

    async fn take(
        &self,
        key: &str,
        per_unit: Duration,
        burst: u32,
        peek: bool,
    ) -> Result<Result<(), Duration>, Unavailable> {
        // Microseconds with their fraction: a rate above a million a second is not rounded to one.
        let per = format!("{:.3}", (per_unit.as_secs_f64() * 1e6).max(0.001));
        let mut conn = self.conn();
        let wait: u64 = TAKE
            .key(key)
            .arg(per)
            .arg(burst)
            .arg(if peek { 0 } else { 1 })
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(if wait == 0 { Ok(()) } else { Err(Duration::from_micros(wait)) })
    }

    async fn open_window(&self, key: &str, window: Duration) -> Result<Option<Duration>, Unavailable> {
        let ms = u64::try_from(window.as_millis()).unwrap_or(u64::MAX).max(1);
        let mut conn = self.conn();
        let left: u64 = OPEN_WINDOW.key(key).arg(ms).invoke_async(&mut conn).await.map_err(unavailable)?;
        Ok((left > 0).then(|| Duration::from_millis(left)))
    }
}
