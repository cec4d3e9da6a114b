//! `keyward webhooks`: the operator's endpoints from the command line.

use super::explain;
use crate::infra::db::Db;
use crate::operator_webhooks::{endpoints, EVENT_TYPES};
use clap::Subcommand;

#[derive(Subcommand)]
pub enum WebhooksAction {
    /// Add an endpoint; prints its signing secret, which is not shown again.
    Add {
        url: String,
        /// Comma-separated: job.cancel_requested, job.completed, job.failed,
        /// credits.low_balance, key.revoked.
        #[arg(long)]
        events: String,
    },
    /// List the endpoints.
    List,
    /// Remove an endpoint (its pending deliveries are given up).
    Remove { id: String },
    /// Send a delivery's event again.
    Resend { delivery_id: String },
    /// The events an endpoint may subscribe to.
    Events,
}

pub async fn webhooks_command(db: &Db, action: WebhooksAction) -> Result<(), String> {
    let now = crate::time_fmt::now_ms();
    match action {
        WebhooksAction::Add { url, events } => {
            let events: Vec<String> = events.split(',').map(|e| e.trim().to_string()).collect();
            let made = endpoints::create(db, &url, &events, now)
                .await
                .map_err(explain)?;
            println!(
                "Added {} for {}",
                made.endpoint.id,
                made.endpoint.events.join(", ")
            );
            println!("Signing secret (shown once): {}", made.secret);
        }
        WebhooksAction::List => {
            for endpoint in endpoints::list(db).await.map_err(explain)? {
                println!(
                    "{}  {}  {}  {}",
                    endpoint.id,
                    if endpoint.active { "on " } else { "off" },
                    endpoint.url,
                    endpoint.events.join(",")
                );
            }
        }
        WebhooksAction::Remove { id } => {
            endpoints::remove(db, &id, now).await.map_err(explain)?;
            println!("Removed {id}");
        }
        WebhooksAction::Resend { delivery_id } => {
            let id = endpoints::resend(db, &delivery_id, now)
                .await
                .map_err(explain)?;
            println!("Queued again as {id}");
        }
        WebhooksAction::Events => {
            for (name, meaning) in EVENT_TYPES {
                println!("{name:22} {meaning}");
            }
        }
    }
    Ok(())
}
