//! Socket.IO on the axum server: rooms per tenant, and the broadcaster the
//! service layer uses to push events.
//!
//! Socket handlers only translate between Socket.IO and the service layer:
//! `join-tenant` asks [`Services::join_tenant`] whether and with what count.

use std::sync::Arc;

use app::models::{events, JoinAck};
use serde::Serialize;
use serde_json::Value;
use socketioxide::{
    extract::{AckSender, Data, SocketRef},
    handler::ConnectHandler,
    layer::SocketIoLayer,
    SocketIo,
};

use crate::service::Services;

/// The Socket.IO room of a tenant.
pub fn tenant_room(tenant_id: &str) -> String {
    format!("tenant:{tenant_id}")
}

/// Sends events to tenant rooms.
#[derive(Clone)]
pub struct Broadcaster {
    io: SocketIo,
}

impl Broadcaster {
    /// Emits `event` to every socket in the tenant's room. Failure is logged,
    /// not returned: the data is already stored and clients catch up on rejoin.
    pub async fn to_tenant<T: Serialize + ?Sized>(&self, tenant_id: &str, event: &str, payload: &T) {
        if let Err(e) = self.io.to(tenant_room(tenant_id)).emit(event, payload).await {
            tracing::warn!(%event, error = %e, "broadcast failed");
        }
    }
}

/// Builds the Socket.IO layer and the broadcaster; handlers are attached with [`attach`].
pub fn layer() -> (SocketIoLayer, SocketIo, Broadcaster) {
    let (layer, io) = SocketIo::builder().build_layer();
    let broadcaster = Broadcaster { io: io.clone() };
    (layer, io, broadcaster)
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
pub fn attach(io: &SocketIo, services: Arc<Services>) {
    let register = move |socket: SocketRef| {
        let services = services.clone();
        async move {
            register_handlers(socket, services);
            Ok::<(), std::convert::Infallible>(())
        }
    };
    io.ns("/", (async |_socket: SocketRef| {}).with(register));
}

fn register_handlers(socket: SocketRef, services: Arc<Services>) {
    socket.on(events::JOIN_TENANT, move |socket: SocketRef, Data(data): Data<Value>, ack: AckSender| {
        let services = services.clone();
        async move {
            let reply = match tenant_arg(&data) {
                None => JoinAck { ok: false, error: Some("tenantId is required".into()), unread_count: None },
                Some(tenant_id) => match services.join_tenant(&tenant_id).await {
                    Ok(unread) => {
                        socket.join(tenant_room(&tenant_id));
                        JoinAck { ok: true, error: None, unread_count: Some(unread) }
                    }
                    Err(e) => JoinAck { ok: false, error: Some(e.public_message()), unread_count: None },
                },
            };
            let _ = ack.send(&reply);
        }
    });
    socket.on(events::LEAVE_TENANT, |socket: SocketRef, Data(data): Data<Value>, ack: AckSender| async move {
        if let Some(tenant_id) = tenant_arg(&data) {
            socket.leave(tenant_room(&tenant_id));
        }
        let _ = ack.send(&JoinAck { ok: true, error: None, unread_count: None });
    });
}
