//! How a form or dialog follows its server action's answer.

use crate::error::AppError;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// Watches `action`: each success runs `on_ok` once and clears the value (so a reopened
/// dialog does not act on it again); each failure runs `on_err`. The other two are this
/// with the usual handling of a failure.
pub fn on_action<S>(
    action: ServerAction<S>,
    on_ok: impl Fn(S::Output) + 'static,
    on_err: impl Fn(AppError) + 'static,
) where
    S: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    Effect::new(move |_| match action.value().get() {
        Some(Ok(output)) => {
            action.value().set(None);
            on_ok(output);
        }
        Some(Err(e)) => on_err(e),
        None => {}
    });
}

/// Watches `action`: each success runs `on_ok` once (the value is then cleared, so a
/// reopened dialog does not act on it again); each failure lands in `error`, which the
/// form shows beside its fields or at its top.
pub fn on_action_result<S>(
    action: ServerAction<S>,
    error: RwSignal<Option<AppError>>,
    on_ok: impl Fn(S::Output) + 'static,
) where
    S: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    on_action(
        action,
        move |output| {
            error.set(None);
            on_ok(output);
        },
        move |e| error.set(Some(e)),
    );
}

/// The message for errors that belong to no single field (validation errors are
/// shown beside their fields instead).
pub fn form_level_message(error: Option<AppError>) -> Option<String> {
    match error {
        Some(AppError::Validation(_)) | None => None,
        Some(other) => Some(other.to_string()),
    }
}

/// Like [`on_action_result`] for a button with no form: a failure is shown as an
/// error toast.
pub fn on_action_toast<S>(
    action: ServerAction<S>,
    toasts: crate::components::toast::Toasts,
    on_ok: impl Fn(S::Output) + 'static,
) where
    S: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    on_action(action, on_ok, move |e| toasts.error(e.to_string()));
}
