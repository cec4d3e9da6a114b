//! Invitations by email: a single-use link valid for seven days (only its SHA-256 is
//! stored), accepted or declined by the signed-in person whose verified email it was
//! sent to, from the link or from their dashboard; Admins revoke pending ones.

use super::invitation_limits::{
    recent, recent_to, HOUR_MS, MAX_BULK, PER_ADDRESS_PER_DAY, PER_ADDRESS_PER_DAY_ALL,
    PER_ORG_PER_HOUR,
};
use super::{IncomingInvitation, Invitation, InviteResult, Role, INVITATION_DAYS};
use crate::auth::{normalize_email, tokens, User};
use crate::error::{AppError, FieldError};
use crate::infra::db::Db;
use crate::infra::mail::Mailer;
use crate::infra::random;
use crate::time_fmt::DAY_MS;
use crate::workspace::access::Membership;

/// What the person opening an invitation's link is shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Opened {
    Pending(IncomingInvitation),
    /// Accepted, declined, revoked or expired: the link works once and for 7 days.
    Spent,
    /// Sent to another address than the signed-in person's (verified) one.
    OtherEmail,
}

/// Who is inviting, and what sending an invitation needs.
pub struct Inviter<'a> {
    pub db: &'a Db,
    pub mailer: &'a Mailer,
    /// Where the emailed link points.
    pub base_url: &'a str,
    pub acting: &'a Membership,
    pub user: &'a User,
}

impl Inviter<'_> {
    /// Invites `email` with `role` (Admin or Member) and sends the link. A pending
    /// invitation to the same address is replaced.
    pub async fn invite(&self, email: &str, role: Role, now: i64) -> Result<Invitation, AppError> {
        let (db, acting) = (self.db, self.acting);
        self.check_role(role)?;
        self.check_verified()?;
        let email = normalize_email(email).map_err(|e| AppError::Validation(vec![e]))?;
        let member: Option<(String,)> = sqlx::query_as(
            "SELECT m.user_id FROM org_members m JOIN users u ON u.id = m.user_id \
             WHERE m.org_id = $1 AND u.email = $2",
        )
        .bind(&acting.org_id)
        .bind(&email)
        .fetch_optional(&db.pool)
        .await?;
        if member.is_some() {
            return Err(AppError::invalid(
                "email",
                "This person is already a member.",
            ));
        }
        let token = tokens::new_token()?;
        let id = random::id("inv")?;
        let expires_at = now + INVITATION_DAYS * DAY_MS;
        let mut tx = db.begin_write().await?;
        // The organization's row is locked, so its invitations are counted one at a time.
        super::access::lock_org(&mut tx, &acting.org_id).await?;
        let (by_org, wait) = recent(&mut *tx, "org_id", &acting.org_id, HOUR_MS, now).await?;
        if by_org >= PER_ORG_PER_HOUR {
            return Err(AppError::TooManyAttempts {
                retry_after_secs: wait,
            });
        }
        // Per organization and address, so that no one organization can use up an
        // address's allowance and keep others from inviting it; and a higher cap for the
        // address from every organization together.
        let (from_here, wait) = recent_to(&mut tx, Some(&acting.org_id), &email, now).await?;
        if from_here >= PER_ADDRESS_PER_DAY {
            return Err(AppError::TooManyAttempts {
                retry_after_secs: wait,
            });
        }
        let (from_all, wait) = recent_to(&mut tx, None, &email, now).await?;
        if from_all >= PER_ADDRESS_PER_DAY_ALL {
            return Err(AppError::TooManyAttempts {
                retry_after_secs: wait,
            });
        }
        sqlx::query("DELETE FROM invitation_sends WHERE sent_at < $1")
            .bind(now - 2 * DAY_MS)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO invitation_sends (org_id, email, sent_at) VALUES ($1, $2, $3)")
            .bind(&acting.org_id)
            .bind(&email)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE org_invitations SET outcome = 'revoked', decided_at = $1 \
             WHERE org_id = $2 AND email = $3 AND outcome IS NULL",
        )
        .bind(now)
        .bind(&acting.org_id)
        .bind(&email)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO org_invitations (id, org_id, email, role, token_digest, invited_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&id)
        .bind(&acting.org_id)
        .bind(&email)
        .bind(role.as_str())
        .bind(tokens::digest(&token))
        .bind(&self.user.id)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.mailer.send(super::emails::invitation(
            &email,
            &acting.name,
            &self.user.email,
            role,
            &format!("{}/account/invitations?token={token}", self.base_url),
        ));
        tracing::info!(org = %acting.org_id, invitation = %id, by = %self.user.id, "invitation sent");
        Ok(Invitation {
            id,
            email,
            role,
            invited_by: self.user.email.clone(),
            created_at: now,
            expires_at,
        })
    }

    /// Whether the inviting person may invite with `role`: managers only, Admins by the
    /// Owner only, and nobody as Owner.
    fn check_role(&self, role: Role) -> Result<(), AppError> {
        self.acting.require_manager()?;
        if role == Role::Owner {
            return Err(AppError::invalid("role", "Invite as an Admin or a Member."));
        }
        if role == Role::Admin && self.acting.role != Role::Owner {
            return Err(AppError::invalid("role", "Only the Owner invites Admins."));
        }
        Ok(())
    }

    /// Only a person who proved their address may send mail in an organization's name.
    fn check_verified(&self) -> Result<(), AppError> {
        if self.user.email_verified_at.is_none() {
            return Err(AppError::invalid(
                "emails",
                "Verify your email address before inviting anyone: open the link we emailed you (Account > Security can send it again).",
            ));
        }
        Ok(())
    }

    /// Invites each address of a pasted list or CSV (commas, semicolons, whitespace or
    /// new lines between them; other CSV columns are ignored), up to 50, as `role`.
    pub async fn invite_many(
        &self,
        list: &str,
        role: Role,
        now: i64,
    ) -> Result<Vec<InviteResult>, AppError> {
        self.check_role(role)?;
        self.check_verified()?;
        let mut addresses: Vec<String> = Vec::new();
        for item in list.split(|c: char| c == ',' || c == ';' || c.is_whitespace()) {
            let item = item.trim().trim_matches('"');
            if item.contains('@') && !addresses.iter().any(|a| a.eq_ignore_ascii_case(item)) {
                addresses.push(item.to_string());
            }
        }
        if addresses.is_empty() {
            return Err(AppError::invalid(
                "emails",
                "Paste at least one email address.",
            ));
        }
        if addresses.len() > MAX_BULK {
            return Err(AppError::invalid(
                "emails",
                format!(
                    "At most {MAX_BULK} addresses at once; this list has {}.",
                    addresses.len()
                ),
            ));
        }
        // A list larger than what is left of the hour's allowance sends nothing.
        let (sent, wait) =
            recent(&self.db.pool, "org_id", &self.acting.org_id, HOUR_MS, now).await?;
        if sent + addresses.len() as i64 > PER_ORG_PER_HOUR {
            return Err(AppError::TooManyAttempts {
                retry_after_secs: wait,
            });
        }
        let mut results = Vec::with_capacity(addresses.len());
        let mut limited = 0;
        let mut longest_wait = 0;
        for email in addresses {
            let problem = match self.invite(&email, role, now).await {
                Ok(_) => None,
                Err(AppError::TooManyAttempts { retry_after_secs }) => {
                    limited += 1;
                    longest_wait = longest_wait.max(retry_after_secs);
                    Some(format!(
                        "This address has been sent {PER_ADDRESS_PER_DAY} invitations in a day, or this organization {PER_ORG_PER_HOUR} in an hour. Try again in {}.",
                        crate::time_fmt::duration_words(retry_after_secs)
                    ))
                }
                Err(AppError::Validation(errors)) => Some(
                    errors
                        .into_iter()
                        .map(|e| e.message)
                        .collect::<Vec<_>>()
                        .join(" "),
                ),
                Err(other) => return Err(other),
            };
            results.push(InviteResult { email, problem });
        }
        // Nothing went out, all for the limits: the call as a whole was too many.
        if limited == results.len() {
            return Err(AppError::TooManyAttempts {
                retry_after_secs: longest_wait,
            });
        }
        Ok(results)
    }
}

/// Pending invitations of the organization, newest first.
pub async fn pending(db: &Db, org_id: &str, now: i64) -> Result<Vec<Invitation>, AppError> {
    let rows: Vec<(String, String, String, String, i64, i64)> = sqlx::query_as(
        "SELECT i.id, i.email, i.role, u.email, i.created_at, i.expires_at FROM org_invitations i \
         JOIN users u ON u.id = i.invited_by \
         WHERE i.org_id = $1 AND i.outcome IS NULL AND i.expires_at > $2 ORDER BY i.created_at DESC",
    )
    .bind(org_id)
    .bind(now)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, email, role, invited_by, created_at, expires_at)| {
            Some(Invitation {
                id,
                email,
                role: Role::parse(&role)?,
                invited_by,
                created_at,
                expires_at,
            })
        })
        .collect())
}

pub async fn revoke(
    db: &Db,
    acting: &Membership,
    invitation_id: &str,
    now: i64,
) -> Result<(), AppError> {
    acting.require_manager()?;
    let revoked = sqlx::query(
        "UPDATE org_invitations SET outcome = 'revoked', decided_at = $1 \
         WHERE id = $2 AND org_id = $3 AND outcome IS NULL",
    )
    .bind(now)
    .bind(invitation_id)
    .bind(&acting.org_id)
    .execute(&db.pool)
    .await?
    .rows_affected();
    if revoked == 0 {
        return Err(AppError::NotFound);
    }
    Ok(())
}

const INCOMING: &str = "SELECT i.id, o.name, o.slug, i.role, u.email, i.expires_at, i.email \
     FROM org_invitations i JOIN organizations o ON o.id = i.org_id JOIN users u ON u.id = i.invited_by";

type IncomingRow = (String, String, String, String, String, i64, String);

fn incoming_of(row: IncomingRow) -> Option<IncomingInvitation> {
    let (id, org_name, org_slug, role, invited_by, expires_at, _) = row;
    Some(IncomingInvitation {
        id,
        org_name,
        org_slug,
        role: Role::parse(&role)?,
        invited_by,
        expires_at,
    })
}

/// Pending invitations to the person's verified email (none until it is verified).
pub async fn incoming(db: &Db, user: &User, now: i64) -> Result<Vec<IncomingInvitation>, AppError> {
    if user.email_verified_at.is_none() {
        return Ok(Vec::new());
    }
    let rows: Vec<IncomingRow> = sqlx::query_as(&format!(
        "{INCOMING} WHERE i.email = $1 AND i.outcome IS NULL AND i.expires_at > $2 ORDER BY i.created_at DESC"
    ))
    .bind(&user.email)
    .bind(now)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().filter_map(incoming_of).collect())
}

/// The invitation behind an emailed link, as the signed-in person may see it.
pub async fn open(db: &Db, user: &User, token: &str, now: i64) -> Result<Opened, AppError> {
    if !tokens::is_well_formed(token) {
        return Ok(Opened::Spent);
    }
    let row: Option<IncomingRow> = sqlx::query_as(&format!(
        "{INCOMING} WHERE i.token_digest = $1 AND i.outcome IS NULL AND i.expires_at > $2"
    ))
    .bind(tokens::digest(token))
    .bind(now)
    .fetch_optional(&db.pool)
    .await?;
    let Some(row) = row else {
        return Ok(Opened::Spent);
    };
    if row.6 != user.email || user.email_verified_at.is_none() {
        return Ok(Opened::OtherEmail);
    }
    Ok(incoming_of(row)
        .map(Opened::Pending)
        .unwrap_or(Opened::Spent))
}

/// Accepts (joining with the invitation's role) or declines one of the person's
/// pending invitations. One conditional UPDATE decides it, so a link clicked twice, or
/// accepted and declined at once, counts once. Answers the organization's slug.
pub async fn decide(
    db: &Db,
    user: &User,
    invitation_id: &str,
    accept: bool,
    now: i64,
) -> Result<String, AppError> {
    if user.email_verified_at.is_none() {
        return Err(AppError::Validation(vec![FieldError::new(
            "invitation",
            "Verify your email address first: invitations go to verified addresses only.",
        )]));
    }
    let mut tx = db.begin_write().await?;
    let decided: Option<(String, String)> = sqlx::query_as(
        "UPDATE org_invitations SET outcome = $1, decided_at = $2 \
         WHERE id = $3 AND email = $4 AND outcome IS NULL AND expires_at > $2 RETURNING org_id, role",
    )
    .bind(if accept { "accepted" } else { "declined" })
    .bind(now)
    .bind(invitation_id)
    .bind(&user.email)
    .fetch_optional(&mut *tx)
    .await?;
    let (org_id, role) = decided.ok_or(AppError::NotFound)?;
    if accept {
        let role = Role::parse(&role)
            .filter(|r| *r != Role::Owner)
            .unwrap_or(Role::Member);
        sqlx::query(
            "INSERT INTO org_members (org_id, user_id, role, joined_at, last_active_at) VALUES ($1, $2, $3, $4, $4) \
             ON CONFLICT (org_id, user_id) DO NOTHING",
        )
        .bind(&org_id)
        .bind(&user.id)
        .bind(role.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    let (slug,): (String,) = sqlx::query_as("SELECT slug FROM organizations WHERE id = $1")
        .bind(&org_id)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    tracing::info!(org = %org_id, user = %user.id, accept, "invitation decided");
    Ok(slug)
}
