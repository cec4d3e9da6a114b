//! The account emails: plain text plus simple HTML, naming the product, never a secret
//! other than the one link the message exists to deliver.

use crate::infra::mail::{html_escape, Email};

fn html(paragraphs: &[&str], link: Option<(&str, &str)>) -> String {
    let mut body = String::from(
        "<div style=\"font-family:system-ui,sans-serif;font-size:15px;line-height:1.5;color:#1f2328\">",
    );
    for p in paragraphs {
        body.push_str(&format!("<p>{}</p>", html_escape(p)));
    }
    if let Some((label, url)) = link {
        body.push_str(&format!(
            "<p><a href=\"{}\" style=\"background:#0a58ca;color:#fff;padding:8px 14px;border-radius:6px;text-decoration:none\">{}</a></p>",
            html_escape(url),
            html_escape(label)
        ));
    }
    body.push_str("<p style=\"color:#59636e;font-size:13px\">Keyward</p></div>");
    body
}

pub fn verify_address(to: &str, link: &str) -> Email {
    let lines = [
        "Confirm that this is your email address for your Keyward account.",
        "The link works for 24 hours. If you did not create an account, ignore this email.",
    ];
    Email {
        to: to.into(),
        subject: "Verify your email address for Keyward".into(),
        text: format!(
            "{}\n\nVerify your address: {link}\n\n{}\n",
            lines[0], lines[1]
        ),
        html: html(&lines, Some(("Verify email address", link))),
    }
}

pub fn reset_password(to: &str, link: &str) -> Email {
    let lines = [
        "Someone asked to reset the password of your Keyward account.",
        "The link works once, for 30 minutes. Resetting signs you out everywhere. If it was not you, ignore this email: your password stays as it is.",
    ];
    Email {
        to: to.into(),
        subject: "Reset your Keyward password".into(),
        text: format!(
            "{}\n\nChoose a new password: {link}\n\n{}\n",
            lines[0], lines[1]
        ),
        html: html(&lines, Some(("Choose a new password", link))),
    }
}

pub fn password_changed(to: &str) -> Email {
    let lines = [
        "The password of your Keyward account was just changed, and your other sessions were signed out.",
        "If this was not you, reset your password at once and review your API keys.",
    ];
    Email {
        to: to.into(),
        subject: "Your Keyward password was changed".into(),
        text: format!("{}\n\n{}\n", lines[0], lines[1]),
        html: html(&lines, None),
    }
}

pub fn new_device(to: &str, when: &str, client_addr: &str, user_agent: &str) -> Email {
    let device = if user_agent.is_empty() {
        "an unknown browser".to_string()
    } else {
        user_agent.chars().take(120).collect()
    };
    let first = format!(
        "Your Keyward account was signed in to from a new device: {device}, address {client_addr}, at {when}."
    );
    let second = "If this was you, there is nothing to do. If not, reset your password and sign out the session from Account > Security.";
    Email {
        to: to.into(),
        subject: "New sign-in to your Keyward account".into(),
        text: format!("{first}\n\n{second}\n"),
        html: html(&[&first, second], None),
    }
}

/// Two-factor sign-in was turned on, replaced or turned off (`what` says which).
pub fn two_factor_changed(to: &str, what: &str) -> Email {
    let first = format!("Two-factor authentication on your Keyward account was just {what}.");
    let second = "If this was not you, reset your password at once, then review your sessions and API keys in Account > Security.";
    Email {
        to: to.into(),
        subject: format!("Two-factor authentication was {what} on your Keyward account"),
        text: format!("{first}\n\n{second}\n"),
        html: html(&[&first, second], None),
    }
}
