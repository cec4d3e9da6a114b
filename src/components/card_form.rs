//! The payment provider's card form: Stripe.js's card element, in a frame of its own
//! (`web::card_frame`), so the provider's script never runs in the app's document.
//! Card numbers go from the element straight to the provider; Keyward sees only the id
//! it answers.

use leptos::prelude::*;

/// Where the card form stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CardFormState {
    Loading,
    Ready,
    /// The script could not load (blocked, offline); the message says what to do.
    Broken(String),
}

/// Where the checkout page frames the card form (`web::card_frame`).
pub const CARD_FRAME_SRC: &str = "/account/wallet/card-form";

/// A handle to the framed card form; cheap to copy into event handlers.
#[derive(Clone, Copy)]
pub struct CardForm {
    pub state: RwSignal<CardFormState>,
    /// The id of the `<iframe>` that holds it.
    pub frame_id: &'static str,
}

impl CardForm {
    /// A handle for the card form in the `<iframe id={frame_id}>`.
    pub fn new(frame_id: &'static str) -> Self {
        Self {
            state: RwSignal::new(CardFormState::Loading),
            frame_id,
        }
    }

    /// Follows the frame from when the component rendering it runs (a new frame loads
    /// afresh): ready when its card element is, broken when its script failed.
    pub fn follow(self) {
        self.state.set(CardFormState::Loading);
        #[cfg(feature = "hydrate")]
        Effect::new(move |_| browser::watch(self, self.frame_id));
    }

    /// Sends the card details to the provider; answers the payment method id, or the
    /// provider's message (incomplete number, declined card) to show beside the form.
    pub async fn payment_method(self) -> Result<String, String> {
        #[cfg(feature = "hydrate")]
        {
            browser::create_token(self).await
        }
        #[cfg(not(feature = "hydrate"))]
        Err("The card form works in the browser only.".to_string())
    }

    /// Sends the card details to the provider; answers the token to keep the card with
    /// a customer (subscriptions), or the provider's message to show beside the form.
    pub async fn card_token(self) -> Result<String, String> {
        #[cfg(feature = "hydrate")]
        {
            browser::answer_field(self, "token").await
        }
        #[cfg(not(feature = "hydrate"))]
        Err("The card form works in the browser only.".to_string())
    }

    /// Lets the provider's script show the bank's confirmation step (3-D Secure); answers
    /// its message when the person or the bank refused.
    pub async fn confirm(self, client_secret: String) -> Result<(), String> {
        #[cfg(feature = "hydrate")]
        {
            browser::confirm(self, client_secret).await
        }
        #[cfg(not(feature = "hydrate"))]
        {
            let _ = client_secret;
            Err("The card form works in the browser only.".to_string())
        }
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use super::{CardForm, CardFormState};
    use js_sys::{Function, Promise, Reflect};
    use leptos::prelude::*;
    use wasm_bindgen::{closure::Closure, JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;

    const LOAD_FAILED: &str =
        "The card form could not be loaded. Check your connection and reload the page.";

    fn get(target: &JsValue, name: &str) -> JsValue {
        Reflect::get(target, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
    }

    /// The frame's `keywardCard` (see `web::card_frame`), once its document has run.
    fn frame_api(frame_id: &str) -> Option<JsValue> {
        let frame = document().get_element_by_id(frame_id)?;
        let window = get(&frame, "contentWindow");
        let api = get(&window, "keywardCard");
        (!api.is_undefined() && !api.is_null()).then_some(api)
    }

    fn check(form: CardForm, frame_id: &str) -> bool {
        let Some(api) = frame_api(frame_id) else {
            return false;
        };
        if get(&api, "ready").as_bool() == Some(true) {
            form.state.set(CardFormState::Ready);
        } else {
            let message = get(&api, "error")
                .as_string()
                .unwrap_or_else(|| LOAD_FAILED.into());
            form.state.set(CardFormState::Broken(message));
        }
        true
    }

    /// Watches the frame: it may have loaded before the page hydrated, or load later.
    pub fn watch(form: CardForm, frame_id: &'static str) {
        if check(form, frame_id) {
            return;
        }
        let Some(frame) = document().get_element_by_id(frame_id) else {
            return;
        };
        let onload = Closure::once_into_js(move || {
            if !check(form, frame_id) {
                form.state.set(CardFormState::Broken(LOAD_FAILED.into()));
            }
        });
        let _ = Reflect::set(&frame, &"onload".into(), &onload);
    }

    /// Calls `keywardCard.name(args…)` in the frame and awaits its answer. The frame is
    /// another realm: its functions and promises are not `instanceof` this page's, so
    /// they are checked with `typeof` and adopted with `Promise.resolve`.
    async fn ask(frame_id: &str, name: &str, args: &[JsValue]) -> Result<JsValue, String> {
        let api = frame_api(frame_id).ok_or_else(|| LOAD_FAILED.to_string())?;
        let function = get(&api, name);
        if !function.is_function() {
            return Err(LOAD_FAILED.to_string());
        }
        let function: Function = function.unchecked_into();
        let args: js_sys::Array = args.iter().collect();
        let answer = function
            .apply(&api, &args)
            .map_err(|_| LOAD_FAILED.to_string())?;
        let answer = JsFuture::from(Promise::resolve(&answer))
            .await
            .map_err(|_| "The card could not be checked. Try again.".to_string())?;
        match get(&answer, "error").as_string() {
            Some(message) => Err(message),
            None => Ok(answer),
        }
    }

    pub async fn create_token(form: CardForm) -> Result<String, String> {
        answer_field(form, "id").await
    }

    /// Tokenises the card and answers `field` of what the frame says (`id`: the card,
    /// `token`: the token).
    pub async fn answer_field(form: CardForm, field: &str) -> Result<String, String> {
        let answer = ask(form.frame_id, "token", &[]).await?;
        get(&answer, field)
            .as_string()
            .ok_or_else(|| "Enter your card details.".to_string())
    }

    pub async fn confirm(form: CardForm, client_secret: String) -> Result<(), String> {
        ask(
            form.frame_id,
            "confirm",
            &[JsValue::from_str(&client_secret)],
        )
        .await
        .map(|_| ())
    }
}

/// The provider's card element with its label and message.
#[component]
pub fn CardDetails(form: Option<CardForm>, error: RwSignal<Option<String>>) -> impl IntoView {
    if let Some(form) = form {
        form.follow();
    }
    let state = move || form.map(|f| f.state.get());
    view! {
        <div class="field card-field">
            <span class="label" id="card-label">"Card details"</span>
            <iframe id="card-frame" class="card-frame" src=CARD_FRAME_SRC title="Card details"
                aria-describedby=move || if error.get().is_some() { "card-message" } else { "" }></iframe>
            {move || match state() {
                Some(CardFormState::Loading) => Some(view! { <p class="hint">"Loading the card form…"</p> }.into_any()),
                Some(CardFormState::Broken(message)) => Some(view! { <p class="field-error" role="alert">{message}</p> }.into_any()),
                _ => None,
            }}
            {move || error.get().map(|message| view! {
                <p class="field-error" id="card-message" role="alert">{message}</p>
            })}
            <p class="hint">"Your card details go straight to the payment provider; Keyward never sees them."</p>
        </div>
    }
}
