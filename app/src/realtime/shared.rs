//! One Socket.IO connection per browser: the tabs of a tenant and reader take turns
//! holding a Web Lock; the holder connects and posts everything it hears on a
//! BroadcastChannel, and the others apply what it posts. When the holder
//! closes, the browser grants the lock to the next tab, which connects and
//! rejoins with the newest notification it has (recovering what was missed).
//! Without Web Locks or BroadcastChannel, [`Shared::open`] says so and each tab
//! connects on its own.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use wasm_bindgen::{closure::Closure, JsCast, JsValue};
use web_sys::{BroadcastChannel, MessageEvent};

/// What the holding tab posts to the others.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "camelCase")]
pub enum Relayed {
    /// A server event, as received.
    Event { name: String, args: Vec<Value> },
    /// The answer to the holder's join (count, missed notifications, refetch).
    Ack { ack: Value },
    /// The connection came up.
    Connected,
    /// The connection is down; the next attempt is at `retry_at_ms`.
    Disconnected { retry_at_ms: f64 },
    /// A tab that just opened asks how the connection stands.
    Hello,
}

/// The channel of one tenant's tabs in this browser.
pub struct Shared {
    channel: BroadcastChannel,
    name: String,
}

impl Shared {
    /// The channel of `reader`'s tabs of a tenant (`None`: the tenant's own
    /// reader), when this browser has both Web Locks and BroadcastChannel.
    pub fn open(tenant_id: &str, reader: Option<&str>) -> Option<Self> {
        let window = web_sys::window()?;
        let locks = js_sys::Reflect::get(&window.navigator(), &JsValue::from_str("locks")).ok()?;
        if locks.is_undefined() || locks.is_null() {
            return None;
        }
        // Per reader too: a tab still showing someone else's page never applies this reader's events.
        let name = format!("hookbell-live:{tenant_id}:{}", reader.unwrap_or("tenant"));
        let channel = BroadcastChannel::new(&name).ok()?;
        Some(Self { channel, name })
    }

    /// Calls `apply` with every message another tab posts (for the page's life).
    pub fn listen(&self, apply: impl Fn(Relayed) + 'static) {
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
            if let Some(msg) = ev.data().as_string().and_then(|s| serde_json::from_str(&s).ok()) {
                apply(msg);
            }
        });
        self.channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget();
    }

    /// Tells the other tabs.
    pub fn post(&self, msg: &Relayed) {
        if let Ok(text) = serde_json::to_string(msg) {
            let _ = self.channel.post_message(&JsValue::from_str(&text));
        }
    }

    /// Calls `hold` once this tab holds the connection's lock (at once when no
    /// other tab does); the lock stays held until the tab goes away.
    pub fn when_holding(&self, hold: impl FnOnce() + 'static) {
        let Some(window) = web_sys::window() else { return };
        let Ok(locks) = js_sys::Reflect::get(&window.navigator(), &JsValue::from_str("locks")) else { return };
        let Ok(request) = js_sys::Reflect::get(&locks, &JsValue::from_str("request")) else { return };
        let Ok(request) = request.dyn_into::<js_sys::Function>() else { return };
        let granted = Closure::once_into_js(move |_lock: JsValue| -> JsValue {
            hold();
            // A promise that never settles: the lock is held for the tab's life.
            js_sys::Promise::new(&mut |_, _| {}).into()
        });
        let _ = request.call2(&locks, &JsValue::from_str(&self.name), &granted);
    }
}
