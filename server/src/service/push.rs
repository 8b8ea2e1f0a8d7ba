//! How the service layer reaches open dashboards: a small trait that the
//! Socket.IO layer ([`crate::realtime`]) implements, so the services never
//! name a socket, a room or Socket.IO itself.

use std::sync::Arc;

use app::models::{ApiKeyId, TenantId, UserId};
use async_trait::async_trait;
use serde::Serialize;
use serde_json::Value;

/// Whose open sockets to close.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sockets<'a> {
    /// Every socket of a signed-in user, in every tenant.
    User(&'a UserId),
    /// The sockets opened with one session (by its token's hash).
    Session(&'a str),
    /// The sockets of one API key.
    ApiKey(&'a ApiKeyId),
    /// The development demo's sockets.
    Demo,
}

/// Pushes events to dashboards, on every node. Failures are the
/// implementation's to log: the data is already stored and clients catch up on rejoin.
#[async_trait]
pub trait Push: Send + Sync + 'static {
    /// Emits `event` to every socket of the tenant.
    async fn to_tenant(&self, tenant_id: &TenantId, event: &str, payload: &Value);
    /// Emits `event` to one reader's sockets in a tenant: a user's (their
    /// personal notifications, their own read state), or with `None` those of
    /// programs acting for the tenant itself.
    async fn to_reader(&self, tenant_id: &TenantId, reader: Option<&UserId>, event: &str, payload: &Value);
    /// Emits `event` to every socket of `whose` (all their tabs, in every tenant).
    async fn to_sockets(&self, whose: Sockets<'_>, event: &str, payload: &Value);
    /// Disconnects the sockets of a revoked key, an ended session, a removed member.
    async fn disconnect(&self, whose: Sockets<'_>);
    /// How many sockets `whose` has open, on every node.
    async fn count(&self, whose: Sockets<'_>) -> usize;
    /// Whether the channel to the other nodes (Redis) answers now; `None`
    /// when there is none (one process).
    async fn reachable(&self) -> Option<bool> {
        None
    }
    /// Sockets open on this node, and the rooms they joined.
    fn local_counts(&self) -> (usize, usize) {
        (0, 0)
    }
    /// Whether any socket, on any node, may be in the tenant's rooms: false
    /// only when that is certain (one process, none of whose sockets joined
    /// the tenant), so that an event no one can hear is not even encoded.
    fn may_hear(&self, _tenant_id: &TenantId) -> bool {
        true
    }
    /// Closes the transport of every socket on this node (on shutdown):
    /// clients take it as a cue to reconnect, to another node.
    async fn close_local(&self) {}
}

/// The service layer's handle on [`Push`], taking any serialisable payload.
#[derive(Clone)]
pub struct Pusher(Arc<dyn Push>);

impl Pusher {
    pub fn new(push: Arc<dyn Push>) -> Self {
        Self(push)
    }

    /// Whether the channel to the other nodes answers (`None`: one process).
    pub async fn reachable(&self) -> Option<bool> {
        self.0.reachable().await
    }

    /// Closes every socket's transport on this node (clients reconnect elsewhere).
    pub async fn close_local(&self) {
        self.0.close_local().await
    }

    /// Sockets open on this node, and the rooms they joined.
    pub fn local_counts(&self) -> (usize, usize) {
        self.0.local_counts()
    }

    /// The implementation (to share it with another `Services`).
    pub fn inner(&self) -> Arc<dyn Push> {
        self.0.clone()
    }

    fn value<T: Serialize + ?Sized>(event: &str, payload: &T) -> Option<Value> {
        serde_json::to_value(payload).map_err(|e| tracing::error!(%event, error = %e, "event not serialisable")).ok()
    }

    /// Whether no socket can hear an event of the tenant: it is counted as
    /// emitted (as a broadcast to an empty room always was) and not encoded.
    fn unheard(&self, tenant_id: &TenantId, event: &str) -> bool {
        let unheard = !self.0.may_hear(tenant_id);
        if unheard {
            crate::telemetry::emitted(event);
        }
        unheard
    }

    pub async fn to_tenant<T: Serialize + ?Sized>(&self, tenant_id: &TenantId, event: &str, payload: &T) {
        if self.unheard(tenant_id, event) {
            return;
        }
        if let Some(v) = Self::value(event, payload) {
            self.0.to_tenant(tenant_id, event, &v).await;
        }
    }

    pub async fn to_reader<T: Serialize + ?Sized>(
        &self,
        tenant_id: &TenantId,
        reader: Option<&UserId>,
        event: &str,
        payload: &T,
    ) {
        if self.unheard(tenant_id, event) {
            return;
        }
        if let Some(v) = Self::value(event, payload) {
            self.0.to_reader(tenant_id, reader, event, &v).await;
        }
    }

    pub async fn to_sockets<T: Serialize + ?Sized>(&self, whose: Sockets<'_>, event: &str, payload: &T) {
        if let Some(v) = Self::value(event, payload) {
            self.0.to_sockets(whose, event, &v).await;
        }
    }

    pub async fn disconnect(&self, whose: Sockets<'_>) {
        self.0.disconnect(whose).await;
    }

    pub async fn count(&self, whose: Sockets<'_>) -> usize {
        self.0.count(whose).await
    }
}
