//! The email an owner gets when one of their API keys changed their keys: a leaked key
//! at work shows up in the inbox, not only in the audit trail.

use crate::infra::mail::{html_escape, Email};

/// `action` is "created", "regenerated" or "deleted".
pub fn changed_by_key(to: &str, action: &str, key_name: &str, acting_key_id: &str) -> Email {
    let first = format!(
        "The API key \"{key_name}\" was {action} through the API, by your key {acting_key_id}."
    );
    let second = "If you expected this, there is nothing to do. If not, delete the acting key on the API Keys page and review the others.";
    Email {
        to: to.into(),
        subject: format!("An API key was {action} on your Keyward account"),
        text: format!("{first}\n\n{second}\n"),
        html: format!(
            "<div style=\"font-family:system-ui,sans-serif;font-size:15px;line-height:1.5\"><p>{}</p><p>{}</p><p style=\"color:#59636e;font-size:13px\">Keyward</p></div>",
            html_escape(&first),
            html_escape(second)
        ),
    }
}
