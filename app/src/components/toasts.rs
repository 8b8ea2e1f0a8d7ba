//! Toasts: new notifications and connection changes, stacked in a corner and
//! announced politely to screen readers. Routine ones leave by themselves;
//! high and urgent ones stay until closed.

use leptos::prelude::*;

use super::bell::type_icon;
use crate::live::use_live_state;

/// The stack of toasts of [`LiveState::toasts`](crate::live::LiveState::toasts).
#[component]
pub fn Toaster() -> impl IntoView {
    let live = use_live_state();
    view! {
        <div class="toasts" data-testid="toasts" aria-live="polite" aria-relevant="additions">
            <For each=move || live.toasts.get() key=|t| t.id let:toast>
                <div class=format!("toast type-{}", toast.kind.as_str()) class:sticky=toast.sticky
                    data-testid="toast" data-type=toast.kind.as_str() role="status">
                    <span class=format!("type-icon type-icon-{}", toast.kind.as_str()) aria-hidden="true">
                        {type_icon(toast.kind)}
                    </span>
                    <div class="toast-body">
                        <p class="toast-title">{toast.title}</p>
                        <p class="toast-message">{toast.message}</p>
                    </div>
                    <button type="button" class="toast-close" aria-label="Close"
                        on:click=move |_| live.close_toast(toast.id)>"×"</button>
                </div>
            </For>
        </div>
    }
}
