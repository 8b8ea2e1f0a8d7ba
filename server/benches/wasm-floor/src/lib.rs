//! The smallest app with what hookbell's first page needs in the browser: a
//! bell (count, dropdown list from a server function, an action), fed by a
//! WebSocket whose JSON messages are decoded. Built as a full hydrated app
//! with a router, or (feature `islands`) as one island in a static page.
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Item {
    id: String,
    title: String,
    body: String,
    read: bool,
    at: i64,
}

#[server]
pub async fn items() -> Result<Vec<Item>, ServerFnError> {
    Ok(vec![])
}

#[server]
pub async fn mark(id: String) -> Result<(), ServerFnError> {
    let _ = id;
    Ok(())
}

#[cfg_attr(feature = "islands", island)]
#[cfg_attr(not(feature = "islands"), component)]
pub fn Bell() -> impl IntoView {
    let open = RwSignal::new(false);
    let count = RwSignal::new(0usize);
    let list = Resource::new(move || open.get(), |_| items());
    let mark = ServerAction::<Mark>::new();
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        use wasm_bindgen::{closure::Closure, JsCast};
        if let Ok(ws) = web_sys::WebSocket::new("/socket.io/") {
            let on = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
                if let Some(text) = e.data().as_string() {
                    if let Ok(item) = serde_json::from_str::<Item>(&text) {
                        count.update(|c| *c += item.title.len());
                    }
                }
            });
            ws.set_onmessage(Some(on.as_ref().unchecked_ref()));
            on.forget();
        }
    });
    view! {
        <button on:click=move |_| open.update(|o| *o = !*o)>{count}</button>
        <Show when=move || open.get()>
            <Suspense fallback=|| "…">
                <ul>
                    {move || Suspend::new(async move {
                        list.await
                            .unwrap_or_default()
                            .into_iter()
                            .map(|i| {
                                let id = i.id.clone();
                                view! { <li on:click=move |_| { mark.dispatch(Mark { id: id.clone() }); }>{i.title}</li> }
                            })
                            .collect_view()
                    })}
                </ul>
            </Suspense>
        </Show>
    }
}

#[cfg(not(feature = "islands"))]
#[component]
pub fn App() -> impl IntoView {
    use leptos_router::{
        components::{Route, Router, Routes},
        path,
    };
    view! {
        <Router>
            <header><Bell/></header>
            <Routes fallback=|| "not found">
                <Route path=path!("/") view=|| view! { <p>"page"</p> }/>
            </Routes>
        </Router>
    }
}

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    #[cfg(feature = "islands")]
    leptos::mount::hydrate_islands();
    #[cfg(not(feature = "islands"))]
    leptos::mount::hydrate_body(App);
}
