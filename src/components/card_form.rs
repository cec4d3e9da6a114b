//! The payment provider's card form: Stripe.js's card element, loaded from the
//! provider's script (the checkout page's policy allows it there only). Card numbers go
//! from the element straight to the provider; Keyward sees only the id it answers.

use leptos::prelude::*;

/// Where the card form stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CardFormState {
    Loading,
    Ready,
    /// The script could not load (blocked, offline); the message says what to do.
    Broken(String),
}

/// A handle to the mounted card element; cheap to copy into event handlers.
#[derive(Clone, Copy)]
pub struct CardForm {
    pub state: RwSignal<CardFormState>,
    #[cfg(feature = "hydrate")]
    handles: StoredValue<Option<(wasm_bindgen::JsValue, wasm_bindgen::JsValue)>, LocalStorage>,
}

impl CardForm {
    /// Loads the script and mounts the card element into `#{element_id}` once the
    /// page has hydrated.
    pub fn mount(publishable_key: String, script_url: String, element_id: &'static str) -> Self {
        let form = Self {
            state: RwSignal::new(CardFormState::Loading),
            #[cfg(feature = "hydrate")]
            handles: StoredValue::new_local(None),
        };
        #[cfg(feature = "hydrate")]
        Effect::new(move |_| {
            browser::load(
                form,
                publishable_key.clone(),
                script_url.clone(),
                element_id,
            )
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = (publishable_key, script_url, element_id);
        form
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
    use js_sys::{Function, Object, Promise, Reflect};
    use leptos::prelude::*;
    use wasm_bindgen::{closure::Closure, JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;

    const LOAD_FAILED: &str =
        "The card form could not be loaded. Check your connection and reload the page.";

    fn get(target: &JsValue, name: &str) -> JsValue {
        Reflect::get(target, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
    }

    /// Calls `target.name(args…)`.
    fn call(target: &JsValue, name: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
        let function: Function = get(target, name)
            .dyn_into()
            .map_err(|_| JsValue::from_str(name))?;
        let args: js_sys::Array = args.iter().collect();
        function.apply(target, &args)
    }

    fn message(result: &JsValue) -> Option<String> {
        let error = get(result, "error");
        if error.is_undefined() || error.is_null() {
            return None;
        }
        Some(
            get(&error, "message")
                .as_string()
                .unwrap_or_else(|| "The card could not be used.".to_string()),
        )
    }

    pub fn load(form: CardForm, key: String, url: String, element_id: &'static str) {
        let window = window();
        if !get(&window, "Stripe").is_undefined() {
            init(form, &key, element_id);
            return;
        }
        let document = document();
        let Ok(script) = document.create_element("script") else {
            form.state.set(CardFormState::Broken(LOAD_FAILED.into()));
            return;
        };
        // Under the page's policy a script runs only with the nonce the page's own carry.
        let nonce = document
            .query_selector("script[nonce]")
            .ok()
            .flatten()
            .map(|s| get(&s, "nonce"))
            .and_then(|n| n.as_string())
            .unwrap_or_default();
        let _ = script.set_attribute("src", &url);
        let _ = script.set_attribute("nonce", &nonce);
        let onload = Closure::once_into_js(move || init(form, &key, element_id));
        let onerror = Closure::once_into_js(move || {
            form.state.set(CardFormState::Broken(LOAD_FAILED.into()))
        });
        let _ = Reflect::set(&script, &"onload".into(), &onload);
        let _ = Reflect::set(&script, &"onerror".into(), &onerror);
        if let Some(body) = document.body() {
            let _ = body.append_child(&script);
        }
    }

    fn init(form: CardForm, key: &str, element_id: &'static str) {
        let mounted = (|| -> Result<(JsValue, JsValue), JsValue> {
            let constructor: Function = get(&window(), "Stripe").dyn_into()?;
            let stripe = constructor.call1(&JsValue::NULL, &JsValue::from_str(key))?;
            let elements = call(&stripe, "elements", &[])?;
            let card = call(
                &elements,
                "create",
                &[JsValue::from_str("card"), Object::new().into()],
            )?;
            call(
                &card,
                "mount",
                &[JsValue::from_str(&format!("#{element_id}"))],
            )?;
            Ok((stripe, card))
        })();
        match mounted {
            Ok(handles) => {
                form.handles.set_value(Some(handles));
                form.state.set(CardFormState::Ready);
            }
            Err(_) => form.state.set(CardFormState::Broken(LOAD_FAILED.into())),
        }
    }

    async fn settle(promise: Result<JsValue, JsValue>) -> Result<JsValue, String> {
        let promise: Promise = promise
            .and_then(|p| p.dyn_into().map_err(|_| JsValue::NULL))
            .map_err(|_| LOAD_FAILED.to_string())?;
        let result = JsFuture::from(promise)
            .await
            .map_err(|_| "The card could not be checked. Try again.".to_string())?;
        match message(&result) {
            Some(message) => Err(message),
            None => Ok(result),
        }
    }

    pub async fn create_token(form: CardForm) -> Result<String, String> {
        let Some((stripe, card)) = form.handles.get_value() else {
            return Err(LOAD_FAILED.into());
        };
        let result = settle(call(&stripe, "createToken", &[card])).await?;
        get(&get(&get(&result, "token"), "card"), "id")
            .as_string()
            .ok_or_else(|| "Enter your card details.".to_string())
    }

    pub async fn confirm(form: CardForm, client_secret: String) -> Result<(), String> {
        let Some((stripe, _)) = form.handles.get_value() else {
            return Err(LOAD_FAILED.into());
        };
        let promise = call(
            &stripe,
            "confirmCardPayment",
            &[JsValue::from_str(&client_secret)],
        );
        settle(promise).await.map(|_| ())
    }
}
