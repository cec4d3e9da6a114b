//! The email an invited person gets.

use super::{Role, INVITATION_DAYS};
use crate::infra::mail::{html_escape, Email};
use crate::wallet::format_credits;

pub fn invitation(to: &str, org_name: &str, inviter: &str, role: Role, link: &str) -> Email {
    let first = format!(
        "{inviter} invited you to join {org_name} on Keyward as {}.",
        match role {
            Role::Admin => "an Admin",
            _ => "a Member",
        }
    );
    let second = format!(
        "Open the link, signed in with this address, to accept or decline. It works once and for {INVITATION_DAYS} days."
    );
    let third = "If you did not expect this, ignore this email: nothing changes until you accept.";
    Email {
        to: to.into(),
        subject: format!("Join {org_name} on Keyward"),
        text: format!("{first}\n\n{second}\n{link}\n\n{third}\n"),
        html: format!(
            "<div style=\"font-family:system-ui,sans-serif;font-size:15px;line-height:1.5\"><p>{}</p><p>{}</p><p><a href=\"{}\">Review the invitation</a></p><p style=\"color:#59636e;font-size:13px\">{}</p></div>",
            html_escape(&first),
            html_escape(&second),
            html_escape(link),
            html_escape(third)
        ),
    }
}

/// The member hears how their request for credits was answered.
pub fn credit_request_answered(
    to: &str,
    org_name: &str,
    credits: i64,
    approved: bool,
    link: &str,
) -> Email {
    let credits = format_credits(credits);
    let first = if approved {
        format!("{org_name} approved your request: {credits} credits are in your wallet now.")
    } else {
        format!("{org_name} declined your request for {credits} credits.")
    };
    Email {
        to: to.into(),
        subject: if approved {
            format!("{org_name} approved your request for credits")
        } else {
            format!("{org_name} declined your request for credits")
        },
        text: format!("{first}\n\n{link}\n"),
        html: format!(
            "<div style=\"font-family:system-ui,sans-serif;font-size:15px;line-height:1.5\"><p>{}</p><p><a href=\"{}\">Open {}</a></p></div>",
            html_escape(&first),
            html_escape(link),
            html_escape(org_name)
        ),
    }
}
