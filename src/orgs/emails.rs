//! The email an invited person gets.

use super::{Role, INVITATION_DAYS};
use crate::infra::mail::{html_escape, Email};

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
