//! A Socket.IO v5 client over `web_sys::WebSocket` (browser only).
//!
//! Owns one WebSocket at a time: answers Engine.IO pings, declares the
//! connection dead when no ping arrives within `pingInterval + pingTimeout`,
//! and reconnects with exponential backoff and jitter. Everything it learns is
//! reported to one listener as a [`ClientEvent`]; the listener is called with
//! no internal borrow held, so it may call back into the client.

use std::{
    cell::RefCell,
    collections::HashMap,
    rc::{Rc, Weak},
    time::Duration,
};

use leptos::prelude::{set_timeout_with_handle, TimeoutHandle};
use serde_json::Value;
use wasm_bindgen::{closure::Closure, JsCast};
use web_sys::{CloseEvent, Event, MessageEvent, WebSocket};

use super::{
    backoff::reconnect_delay_ms,
    codec::{decode_eio, decode_sio, encode_eio, frame, EioPacket, SioPacket},
};

const BASE_DELAY_MS: u64 = 500;
const MAX_DELAY_MS: u64 = 30_000;
/// Used until the server's handshake says otherwise.
const DEFAULT_PING_WINDOW_MS: u64 = 45_000;

/// What the client reports to its listener.
#[derive(Debug, Clone)]
pub enum ClientEvent {
    /// The namespace is connected (first time or after a reconnect).
    Connected,
    /// The connection is gone; the next attempt is at `retry_at_ms` (`Date.now()` scale).
    Disconnected { retry_at_ms: f64 },
    /// A server-sent event.
    Event { name: String, args: Vec<Value> },
}

type Listener = Rc<dyn Fn(&SocketClient, ClientEvent)>;
type AckCallback = Box<dyn FnOnce(Vec<Value>)>;

struct WsCallbacks {
    _open: Closure<dyn FnMut(Event)>,
    _message: Closure<dyn FnMut(MessageEvent)>,
    _close: Closure<dyn FnMut(CloseEvent)>,
}

struct Inner {
    url: String,
    listener: Listener,
    ws: Option<(WebSocket, WsCallbacks)>,
    /// Callbacks of the last socket, kept until the next one opens: a closure
    /// must not be dropped while it runs (on_lost is called from onclose).
    retired: Option<WsCallbacks>,
    connected: bool,
    stopped: bool,
    attempt: u32,
    ping_window_ms: u64,
    heartbeat: Option<TimeoutHandle>,
    reconnect: Option<TimeoutHandle>,
    next_ack_id: u64,
    acks: HashMap<u64, AckCallback>,
}

/// A handle to the client; cheap to clone.
#[derive(Clone)]
pub struct SocketClient(Rc<RefCell<Inner>>);

/// The Socket.IO endpoint of the page's own origin.
pub fn default_url() -> String {
    let location = web_sys::window().expect("window").location();
    let scheme = match location.protocol().as_deref() {
        Ok("https:") => "wss",
        _ => "ws",
    };
    let host = location.host().unwrap_or_default();
    format!("{scheme}://{host}/socket.io/?EIO=4&transport=websocket")
}

impl SocketClient {
    /// Starts connecting at once; `listener` hears every [`ClientEvent`].
    pub fn connect(url: String, listener: impl Fn(&SocketClient, ClientEvent) + 'static) -> Self {
        let client = SocketClient(Rc::new(RefCell::new(Inner {
            url,
            listener: Rc::new(listener),
            ws: None,
            retired: None,
            connected: false,
            stopped: false,
            attempt: 0,
            ping_window_ms: DEFAULT_PING_WINDOW_MS,
            heartbeat: None,
            reconnect: None,
            next_ack_id: 0,
            acks: HashMap::new(),
        })));
        client.open_socket();
        client
    }

    /// Whether the namespace is connected now.
    pub fn is_connected(&self) -> bool {
        self.0.borrow().connected
    }

    /// Sends an event; dropped when not connected (callers re-send on `Connected`).
    pub fn emit(&self, name: &str, args: Vec<Value>) {
        self.send_event(name, args, None);
    }

    /// Sends an event whose acknowledgement is passed to `on_ack`.
    pub fn emit_with_ack(&self, name: &str, args: Vec<Value>, on_ack: impl FnOnce(Vec<Value>) + 'static) {
        self.send_event(name, args, Some(Box::new(on_ack)));
    }

    /// Closes the connection for good (no reconnect).
    pub fn close(&self) {
        let mut inner = self.0.borrow_mut();
        inner.stopped = true;
        if let Some(h) = inner.reconnect.take() {
            h.clear();
        }
        if let Some(h) = inner.heartbeat.take() {
            h.clear();
        }
        if let Some((ws, cbs)) = inner.ws.take() {
            detach(&ws);
            let _ = ws.close();
            inner.retired = Some(cbs);
        }
        inner.connected = false;
    }

    fn send_event(&self, name: &str, args: Vec<Value>, ack: Option<AckCallback>) {
        let mut inner = self.0.borrow_mut();
        if !inner.connected {
            return;
        }
        let id = ack.map(|cb| {
            let id = inner.next_ack_id;
            inner.next_ack_id += 1;
            inner.acks.insert(id, cb);
            id
        });
        let packet = SioPacket::Event { ns: "/".into(), id, name: name.to_owned(), args };
        if let Some((ws, _)) = &inner.ws {
            let _ = ws.send_with_str(&frame(&packet));
        }
    }

    fn weak(&self) -> Weak<RefCell<Inner>> {
        Rc::downgrade(&self.0)
    }

    fn open_socket(&self) {
        let url = self.0.borrow().url.clone();
        let ws = match WebSocket::new(&url) {
            Ok(ws) => ws,
            Err(_) => {
                self.on_lost();
                return;
            }
        };
        let weak = self.weak();
        let open = Closure::<dyn FnMut(Event)>::new({
            let weak = weak.clone();
            move |_e: Event| {
                if let Some(rc) = weak.upgrade() {
                    SocketClient(rc).arm_heartbeat();
                }
            }
        });
        let message = Closure::<dyn FnMut(MessageEvent)>::new({
            let weak = weak.clone();
            move |e: MessageEvent| {
                if let (Some(rc), Some(text)) = (weak.upgrade(), e.data().as_string()) {
                    SocketClient(rc).on_frame(&text);
                }
            }
        });
        let close = Closure::<dyn FnMut(CloseEvent)>::new(move |_e: CloseEvent| {
            if let Some(rc) = weak.upgrade() {
                SocketClient(rc).on_lost();
            }
        });
        ws.set_onopen(Some(open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(close.as_ref().unchecked_ref()));
        let mut inner = self.0.borrow_mut();
        inner.retired = None;
        inner.ws = Some((ws, WsCallbacks { _open: open, _message: message, _close: close }));
    }

    fn send_raw(&self, text: &str) {
        if let Some((ws, _)) = &self.0.borrow().ws {
            let _ = ws.send_with_str(text);
        }
    }

    fn arm_heartbeat(&self) {
        let window = self.0.borrow().ping_window_ms;
        let weak = self.weak();
        let handle = set_timeout_with_handle(
            move || {
                if let Some(rc) = weak.upgrade() {
                    SocketClient(rc).on_lost();
                }
            },
            Duration::from_millis(window),
        )
        .ok();
        let mut inner = self.0.borrow_mut();
        if let Some(old) = std::mem::replace(&mut inner.heartbeat, handle) {
            old.clear();
        }
    }

    fn on_frame(&self, text: &str) {
        match decode_eio(text) {
            Ok(EioPacket::Open(open)) => {
                self.0.borrow_mut().ping_window_ms = open.ping_interval + open.ping_timeout;
                self.arm_heartbeat();
                self.send_raw(&frame(&SioPacket::Connect { ns: "/".into(), data: None }));
            }
            Ok(EioPacket::Ping(data)) => {
                self.arm_heartbeat();
                self.send_raw(&encode_eio(&EioPacket::Pong(data)));
            }
            Ok(EioPacket::Message(msg)) => self.on_message(&msg),
            Ok(EioPacket::Close) => self.on_lost(),
            Ok(_) => {}
            Err(e) => web_sys::console::warn_1(&format!("hookbell: bad frame: {e}").into()),
        }
    }

    fn on_message(&self, msg: &str) {
        let listener = self.0.borrow().listener.clone();
        match decode_sio(msg) {
            Ok(SioPacket::Connect { .. }) => {
                {
                    let mut inner = self.0.borrow_mut();
                    inner.connected = true;
                    inner.attempt = 0;
                }
                listener(self, ClientEvent::Connected);
            }
            Ok(SioPacket::Event { name, args, .. }) => listener(self, ClientEvent::Event { name, args }),
            Ok(SioPacket::Ack { id, args, .. }) => {
                let cb = self.0.borrow_mut().acks.remove(&id);
                if let Some(cb) = cb {
                    cb(args);
                }
            }
            Ok(SioPacket::ConnectError { .. }) | Ok(SioPacket::Disconnect { .. }) => self.on_lost(),
            Err(e) => web_sys::console::warn_1(&format!("hookbell: bad packet: {e}").into()),
        }
    }

    /// The connection is gone (closed, errored, heartbeat missed): schedule a reconnect.
    fn on_lost(&self) {
        let (listener, retry_at_ms) = {
            let mut inner = self.0.borrow_mut();
            if let Some((ws, cbs)) = inner.ws.take() {
                detach(&ws);
                let _ = ws.close();
                inner.retired = Some(cbs);
            }
            if let Some(h) = inner.heartbeat.take() {
                h.clear();
            }
            inner.connected = false;
            inner.acks.clear();
            if inner.stopped || inner.reconnect.is_some() {
                return;
            }
            let delay = reconnect_delay_ms(inner.attempt, BASE_DELAY_MS, MAX_DELAY_MS, js_sys::Math::random());
            inner.attempt = inner.attempt.saturating_add(1);
            let weak = self.weak();
            inner.reconnect = set_timeout_with_handle(
                move || {
                    if let Some(rc) = weak.upgrade() {
                        let client = SocketClient(rc);
                        client.0.borrow_mut().reconnect = None;
                        client.open_socket();
                    }
                },
                Duration::from_millis(delay),
            )
            .ok();
            (inner.listener.clone(), js_sys::Date::now() + delay as f64)
        };
        listener(self, ClientEvent::Disconnected { retry_at_ms });
    }
}

fn detach(ws: &WebSocket) {
    ws.set_onopen(None);
    ws.set_onmessage(None);
    ws.set_onclose(None);
}
