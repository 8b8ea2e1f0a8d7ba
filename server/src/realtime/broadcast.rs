//! The broadcaster: what the service layer's [`Push`] does on Socket.IO.
//! Events go to rooms, on every node through Redis when there is Redis;
//! while Redis does not answer (an error, or no answer within
//! [`REDIS_EMIT_TIMEOUT`]) they still reach this node's own sockets, and the
//! failure is counted and logged at most once a minute.

use app::models::{TenantId, UserId};
use serde::Serialize;
use serde_json::Value;

use super::{key_room, principal_user_room, reader_room, session_room, tenant_room, Io, Redis, DEMO_ROOM};
use crate::{
    service::{Push, Sockets},
    shared::RedisLink,
};

/// The longest a broadcast may wait on Redis before it goes to this node's sockets alone.
pub const REDIS_EMIT_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(500);

/// Sends events to tenant rooms.
#[derive(Clone)]
pub struct Broadcaster {
    pub(super) io: Io,
    /// Redis, for readiness checks (multi-node only).
    pub(super) redis: Option<RedisLink>,
    /// Tenants whose room had a socket a moment ago (see [`Push::may_hear`]).
    pub(super) heard: Heard,
}

/// Tenants whose room was found with a socket in it, for [`HEARD_FOR`]: a busy
/// room is not counted again on every event (collecting its sockets is O(room)).
/// Only "someone listens" is kept: a room found empty is looked at again on the
/// next event, so a socket that has just joined never misses one.
pub(super) type Heard = moka::sync::Cache<TenantId, ()>;

/// How long a room found with a socket in it is taken to still have one.
const HEARD_FOR: std::time::Duration = std::time::Duration::from_secs(1);

/// An empty [`Heard`], bounded in entries as well as in time.
pub(super) fn heard() -> Heard {
    moka::sync::Cache::builder().max_capacity(100_000).time_to_live(HEARD_FOR).build()
}

impl Broadcaster {
    /// Emits `event` to every socket in the tenant's room. Failure is logged,
    /// not returned: the data is already stored and clients catch up on rejoin.
    pub async fn to_tenant<T: Serialize + ?Sized>(&self, tenant_id: &str, event: &str, payload: &T) {
        self.to_room(tenant_room(tenant_id), event, payload).await;
    }

    /// Emits `event` to one reader's sockets in a tenant (see [`reader_room`]).
    pub async fn to_reader<T: Serialize + ?Sized>(
        &self,
        tenant_id: &str,
        reader: Option<&str>,
        event: &str,
        payload: &T,
    ) {
        self.to_room(reader_room(tenant_id, reader), event, payload).await;
    }

    /// Disconnects every socket in `room`, on every node (the Redis adapter
    /// carries it to the others): a revoked key, an ended session, a removed member.
    pub async fn disconnect_room(&self, room: String) {
        // No namespace: the server is shutting down and every socket is closed already.
        let done = match &self.io {
            Io::Local(io) => match io.of("/") {
                Some(ns) => ns.to(room.clone()).disconnect().await.map_err(|e| e.to_string()),
                None => Ok(()),
            },
            Io::Redis(io) => match io.of("/") {
                Some(ns) => {
                    let everywhere = match self.redis_up() {
                        true => tokio::time::timeout(REDIS_EMIT_TIMEOUT, ns.clone().to(room.clone()).disconnect())
                            .await
                            .ok(),
                        false => None,
                    };
                    match everywhere {
                        Some(Ok(())) => Ok(()),
                        // Redis away: this node's sockets at least (the others re-check at every join).
                        _ => {
                            crate::telemetry::redis_error("socket-adapter");
                            ns.local().to(room.clone()).disconnect().await.map_err(|e| e.to_string())
                        }
                    }
                }
                None => Ok(()),
            },
        };
        match done {
            Ok(()) => tracing::debug!(%room, "disconnected the room's sockets"),
            Err(e) => tracing::warn!(%room, error = %e, "could not disconnect the room's sockets"),
        }
    }

    async fn to_room<T: Serialize + ?Sized>(&self, room: String, event: &str, payload: &T) {
        // No namespace: the server is shutting down and every socket is closed already
        // (their clients reconnect and catch up from the store).
        let sent = match &self.io {
            Io::Local(io) => match io.of("/") {
                Some(ns) => ns.to(room).emit(event, payload).await.map_err(|e| e.to_string()),
                None => return,
            },
            Io::Redis(io) => {
                use socketioxide::BroadcastError;
                let Some(ns) = io.of("/") else { return };
                if !self.redis_up() {
                    let down = "Redis did not answer the last ping".to_owned();
                    return self.finish(event, self.redis_away(ns, room, event, payload, down).await);
                }
                // The adapter publishes to Redis first and only then emits here: while Redis is
                // away (an error, or no answer in time) this node's own sockets still get the event.
                let everywhere =
                    tokio::time::timeout(REDIS_EMIT_TIMEOUT, ns.clone().to(room.clone()).emit(event, payload)).await;
                match everywhere {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(BroadcastError::Socket(e))) => Err(format!("{e:?}")),
                    Ok(Err(e)) => self.redis_away(ns, room, event, payload, e.to_string()).await,
                    Err(_) => self.redis_away(ns, room, event, payload, "no answer in time".into()).await,
                }
            }
        };
        self.finish(event, sent);
    }

    /// Counts a broadcast done, or logs its failure (at most once a minute, with the count).
    fn finish(&self, event: &str, sent: Result<(), String>) {
        match sent {
            Ok(()) => crate::telemetry::emitted(event),
            Err(e) => {
                if let Some(unlogged) = BROADCAST_FAILURES.note() {
                    tracing::warn!(%event, error = %e, unlogged, "broadcast failed (logged at most once a minute)");
                }
            }
        }
    }

    /// Whether broadcasts should go through Redis now (the keeper's last ping answered).
    fn redis_up(&self) -> bool {
        self.redis.as_ref().is_none_or(RedisLink::is_up)
    }

    /// Emits to this node's sockets alone after Redis failed; the failure is counted and logged (throttled).
    async fn redis_away<T: Serialize + ?Sized>(
        &self,
        ns: socketioxide::operators::BroadcastOperators<Redis>,
        room: String,
        event: &str,
        payload: &T,
        cause: String,
    ) -> Result<(), String> {
        crate::telemetry::redis_error("socket-adapter");
        if let Some(unlogged) = REDIS_AWAY.note() {
            tracing::warn!(%event, error = %cause, unlogged, "Redis unreachable: events reach this node's sockets only (logged at most once a minute)");
        }
        ns.local().to(room).emit(event, payload).await.map_err(|e| e.to_string())
    }
}

/// Broadcasts that went to this node alone because Redis failed, logged at most once a minute.
static REDIS_AWAY: crate::telemetry::Throttle = crate::telemetry::Throttle::new(std::time::Duration::from_secs(60));

/// Broadcast failures, logged at most once a minute.
static BROADCAST_FAILURES: crate::telemetry::Throttle =
    crate::telemetry::Throttle::new(std::time::Duration::from_secs(60));

#[async_trait::async_trait]
impl Push for Broadcaster {
    async fn to_tenant(&self, tenant_id: &TenantId, event: &str, payload: &Value) {
        Broadcaster::to_tenant(self, tenant_id, event, payload).await;
    }

    async fn to_reader(&self, tenant_id: &TenantId, reader: Option<&UserId>, event: &str, payload: &Value) {
        Broadcaster::to_reader(self, tenant_id, reader.map(UserId::as_str), event, payload).await;
    }

    async fn to_sockets(&self, whose: Sockets<'_>, event: &str, payload: &Value) {
        self.to_room(sockets_room(whose), event, payload).await;
    }

    async fn disconnect(&self, whose: Sockets<'_>) {
        self.disconnect_room(sockets_room(whose)).await;
    }

    async fn reachable(&self) -> Option<bool> {
        // The keeper's last ping (at most a second old): a probe never waits on Redis.
        Some(self.redis.as_ref()?.is_up())
    }

    async fn close_local(&self) {
        match &self.io {
            Io::Local(io) => io.close().await,
            Io::Redis(io) => io.close().await,
        }
    }

    fn may_hear(&self, tenant_id: &TenantId) -> bool {
        match &self.io {
            // Another node's sockets may be in the room.
            Io::Redis(_) => true,
            // (A socket in any of the tenant's rooms is in its tenant room.) A stale "yes" only
            // costs encoding an event nobody hears.
            Io::Local(_) if self.heard.contains_key(tenant_id) => true,
            Io::Local(io) => {
                let heard = io.of("/").is_some_and(|ns| !ns.within(tenant_room(tenant_id)).sockets().is_empty());
                if heard {
                    self.heard.insert(tenant_id.clone(), ());
                }
                heard
            }
        }
    }

    fn local_counts(&self) -> (usize, usize) {
        let sockets = match &self.io {
            Io::Local(io) => io.of("/").map(|ns| ns.sockets().iter().map(|s| s.rooms().len()).collect::<Vec<_>>()),
            Io::Redis(io) => io.of("/").map(|ns| ns.sockets().iter().map(|s| s.rooms().len()).collect::<Vec<_>>()),
        }
        .unwrap_or_default();
        (sockets.len(), sockets.iter().sum())
    }

    async fn count(&self, whose: Sockets<'_>) -> usize {
        let room = sockets_room(whose);
        match &self.io {
            Io::Local(io) => io.of("/").map(|ns| ns.within(room).sockets().len()).unwrap_or(0),
            Io::Redis(io) => {
                let Some(ns) = io.of("/") else { return 0 };
                let everywhere = match self.redis_up() {
                    true => tokio::time::timeout(REDIS_EMIT_TIMEOUT, ns.clone().within(room.clone()).fetch_sockets())
                        .await
                        .ok()
                        .and_then(Result::ok),
                    false => None,
                };
                match everywhere {
                    Some(sockets) => sockets.len(),
                    None => {
                        // Redis away: this node's count, the best known now.
                        crate::telemetry::redis_error("socket-adapter");
                        ns.local().within(room).sockets().len()
                    }
                }
            }
        }
    }
}

/// The room every socket of `whose` is in.
pub(super) fn sockets_room(whose: Sockets<'_>) -> String {
    match whose {
        Sockets::User(user_id) => principal_user_room(user_id),
        Sockets::Session(token_hash) => session_room(token_hash),
        Sockets::ApiKey(key_id) => key_room(key_id),
        Sockets::Demo => DEMO_ROOM.to_owned(),
    }
}
