//! Telling people about their subscription: a failed renewal's email, to the person or
//! to an organization's Owner and Admins (those who can update its card).

use super::store::SubscriptionRow;
use crate::error::AppError;
use crate::infra::db::Db;
use crate::infra::mail::{html_escape, Email, Mailer};
use crate::infra::plans::PlanCatalog;
use crate::workspace::Owner;

/// Who is told, and where their subscription page is.
async fn recipients(db: &Db, owner: &Owner) -> Result<(Vec<String>, String), AppError> {
    match owner {
        Owner::User(user_id) => {
            let email: Option<(String,)> = sqlx::query_as("SELECT email FROM users WHERE id = $1")
                .bind(user_id)
                .fetch_optional(&db.pool)
                .await?;
            Ok((
                email.map(|(e,)| e).into_iter().collect(),
                "/account/subscription".into(),
            ))
        }
        Owner::Org(org_id) => {
            let slug: Option<(String,)> =
                sqlx::query_as("SELECT slug FROM organizations WHERE id = $1")
                    .bind(org_id)
                    .fetch_optional(&db.pool)
                    .await?;
            let emails: Vec<(String,)> = sqlx::query_as(
                "SELECT u.email FROM org_members m JOIN users u ON u.id = m.user_id \
                 WHERE m.org_id = $1 AND m.role IN ('owner', 'admin') ORDER BY u.email",
            )
            .bind(org_id)
            .fetch_all(&db.pool)
            .await?;
            let page = slug.map_or_else(
                || "/account/organizations".to_string(),
                |(slug,)| format!("/org/{slug}/subscription"),
            );
            Ok((emails.into_iter().map(|(e,)| e).collect(), page))
        }
    }
}

fn past_due_email(to: &str, plan_name: &str, link: &str) -> Email {
    let first = format!(
        "The payment for your Keyward {plan_name} plan did not go through. The payment provider will try your card again; if every try fails, the plan ends and you are on the Free plan."
    );
    let second = "Update your card on your Subscription page:";
    Email {
        to: to.into(),
        subject: format!("Your Keyward {plan_name} payment failed"),
        text: format!("{first}\n\n{second}\n{link}\n"),
        html: format!(
            "<div style=\"font-family:system-ui,sans-serif;font-size:15px;line-height:1.5\"><p>{}</p><p>{} <a href=\"{}\">{}</a></p><p style=\"color:#59636e;font-size:13px\">Keyward</p></div>",
            html_escape(&first),
            html_escape(second),
            html_escape(link),
            html_escape(link),
        ),
    }
}

/// Sends the past-due email for `subscription` (after the change was committed).
pub async fn past_due(
    db: &Db,
    mailer: &Mailer,
    plans: &PlanCatalog,
    base_url: &str,
    subscription: &SubscriptionRow,
) -> Result<(), AppError> {
    let plan_name = plans.or_free(&subscription.plan).name.clone();
    let (to, page) = recipients(db, &subscription.owner).await?;
    let link = format!("{base_url}{page}");
    for address in to {
        mailer.send(past_due_email(&address, &plan_name, &link));
    }
    Ok(())
}
