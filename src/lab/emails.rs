//! The email a person gets when Keyward stopped their Lab server for them.

use super::StopReason;
use crate::infra::mail::{html_escape, Email};

/// None for stops the person made themselves (or that happened on the hub).
pub fn stopped(to: &str, reason: StopReason, idle_minutes: i64, base_url: &str) -> Option<Email> {
    let why = match reason {
        StopReason::Idle => format!(
            "Your Lab server was stopped because it had no activity for {}.",
            crate::time_fmt::duration_words((idle_minutes.max(0) as u64) * 60)
        ),
        StopReason::Limit => {
            "Your Lab server was stopped because you have used this month's compute hours."
                .to_string()
        }
        StopReason::Credits => {
            "Your Lab server was stopped because your wallet could not pay for the next CPU hour."
                .to_string()
        }
        StopReason::Operator => "An operator stopped your Lab server.".to_string(),
        StopReason::User | StopReason::Hub => return None,
    };
    let next = "Your files are kept. Launch Lab again from your account when you need it:";
    let link = format!("{base_url}/account/lab");
    Some(Email {
        to: to.into(),
        subject: "Your Lab server was stopped".into(),
        text: format!("{why}\n\n{next}\n{link}\n"),
        html: format!(
            "<div style=\"font-family:system-ui,sans-serif;font-size:15px;line-height:1.5\"><p>{}</p><p>{} <a href=\"{}\">{}</a></p><p style=\"color:#59636e;font-size:13px\">Keyward</p></div>",
            html_escape(&why),
            html_escape(next),
            html_escape(&link),
            html_escape(&link)
        ),
    })
}
