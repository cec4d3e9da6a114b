//! Accounts on the server: sign-up and sign-in with their throttles. Tokens in,
//! tokens out: no cookies and no HTTP types here (`web::request` does those).

use super::devices::{Devices, TrustedDevice};
use super::email_links::{EmailLinks, Purpose};
use super::two_factor::TwoFactor;
use super::{check_new_password, normalize_email, password, User};
use crate::error::{AppError, FieldError};
use crate::infra::mail::Mailer;
use crate::infra::{clock::Clock, config::Config, db::Db, random, throttle::FailureThrottle};
use std::sync::Arc;
use std::time::Duration;

/// A successful sign-up or sign-in: the person, and the device token their browser
/// keeps from now on (the one it presented when it was already trusted).
#[derive(Debug)]
pub struct SignedIn {
    pub user: User,
    pub device_token: String,
    /// True when this browser was not trusted for the account before.
    pub new_device: bool,
}

/// A user row with its password hash: server-only, never serialised.
#[derive(sqlx::FromRow)]
struct Credentials {
    #[sqlx(flatten)]
    user: User,
    password_hash: String,
}

/// Accounts and their sign-in throttles.
///
/// Failures are counted per account from untrusted browsers, per client address, and
/// per trusted device. A browser holding a trusted device token for the account is
/// judged by its own failures only, so strangers can never lock its owner out.
#[derive(Clone)]
pub struct Accounts {
    pub(super) db: Db,
    pub(super) clock: Clock,
    devices: Devices,
    pub two_factor: TwoFactor,
    pub(super) links: EmailLinks,
    pub(super) mailer: Mailer,
    /// Where links in emails point: the public URL, or the listen address.
    pub(super) base_url: Arc<str>,
    /// Password-reset requests per client address and per email (mail bombing).
    pub(super) resets_by_client: Arc<FailureThrottle>,
    pub(super) resets_by_email: Arc<FailureThrottle>,
    /// Failed sign-ins per account from browsers it does not trust.
    sign_in_by_email: Arc<FailureThrottle>,
    /// Failed untrusted sign-ins per client address.
    sign_in_by_client: Arc<FailureThrottle>,
    /// Failed sign-ins per trusted device.
    sign_in_by_device: Arc<FailureThrottle>,
    /// Accounts created per client address: each costs an argon2 hash and a row.
    sign_ups_by_client: Arc<FailureThrottle>,
    /// Failed re-authentications (password, two-factor code) per account.
    pub(super) reauth_failures: Arc<FailureThrottle>,
}

impl Accounts {
    pub fn new(db: Db, clock: Clock, config: &Config, mailer: Mailer) -> Self {
        let (max, window) = (config.sign_in_max_failures, config.sign_in_window_secs);
        Self {
            devices: Devices::new(db.clone(), clock.clone()),
            links: EmailLinks::new(db.clone(), clock.clone()),
            two_factor: TwoFactor::new(db.clone(), clock.clone()),
            mailer,
            base_url: config.base_url().into(),
            resets_by_client: Arc::new(FailureThrottle::per_network(10, 3600)),
            resets_by_email: Arc::new(FailureThrottle::new(3, 3600)),
            db,
            clock,
            sign_in_by_email: Arc::new(FailureThrottle::new(max, window)),
            sign_in_by_device: Arc::new(FailureThrottle::new(max, window)),
            reauth_failures: Arc::new(FailureThrottle::new(max, window)),
            // One address may serve a whole office; allow it more room than one email.
            sign_in_by_client: Arc::new(FailureThrottle::per_network(
                max.saturating_mul(4),
                window,
            )),
            sign_ups_by_client: Arc::new(FailureThrottle::per_network(
                config.sign_ups_per_hour,
                3600,
            )),
        }
    }

    /// Creates an account. One client address may create `sign_ups_per_hour` of them.
    pub async fn register(
        &self,
        email: &str,
        password: &str,
        client_addr: &str,
    ) -> Result<SignedIn, AppError> {
        let now = self.clock.now_ms();
        if let Some(retry_after_secs) = self.sign_ups_by_client.retry_after(client_addr, now) {
            tracing::warn!(client = %client_addr, "sign-up throttled");
            return Err(AppError::TooManyAttempts { retry_after_secs });
        }
        // Every attempt counts, those for taken emails included, so testing which
        // emails have accounts is as slow as creating accounts. Counted before the slow
        // hash, so parallel sign-ups cannot all slip under the limit.
        self.sign_ups_by_client.record(client_addr, now);
        let user = self.create_account(email, password).await?;
        self.send_verification(&user).await?;
        Ok(SignedIn {
            device_token: self.devices.trust(&user.id).await?,
            user,
            new_device: true,
        })
    }

    async fn create_account(&self, email: &str, password: &str) -> Result<User, AppError> {
        let mut errors = Vec::new();
        let email = normalize_email(email).map_err(|e| errors.push(e)).ok();
        if let Err(e) = check_new_password(password) {
            errors.push(e);
        }
        let Some(email) = email.filter(|_| errors.is_empty()) else {
            return Err(AppError::Validation(errors));
        };
        let taken = sqlx::query("SELECT 1 FROM users WHERE email = $1")
            .bind(&email)
            .fetch_optional(&self.db.pool)
            .await?
            .is_some();
        if taken {
            return Err(email_taken());
        }
        let password_hash = password::hash(password.to_string()).await?;
        let user = User {
            id: random::id("usr")?,
            email,
            created_at: self.clock.now_ms(),
            email_verified_at: None,
        };
        match insert_user(&self.db.pool, &user, &password_hash).await {
            Ok(()) => {
                tracing::info!(user_id = %user.id, "account created");
                Ok(user)
            }
            // Two sign-ups for one email racing: the unique constraint decides.
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(email_taken()),
            Err(e) => Err(e.into()),
        }
    }

    /// Sends a link proving the person receives mail at their address.
    pub async fn send_verification(&self, user: &User) -> Result<(), AppError> {
        let token = self
            .links
            .issue(&user.id, &user.email, Purpose::VerifyEmail)
            .await?;
        let link = format!("{}/verify-email?token={token}", self.base_url);
        self.mailer
            .send(super::emails::verify_address(&user.email, &link));
        Ok(())
    }

    /// Checks an email and password. `device_token` is the browser's device cookie; a
    /// sign-in from a browser not yet trusted for the account is told to its owner by
    /// email.
    pub async fn authenticate(
        &self,
        email: &str,
        password: &str,
        client_addr: &str,
        user_agent: &str,
        device_token: Option<&str>,
        code: Option<&str>,
    ) -> Result<SignedIn, AppError> {
        check_sign_in_input(email, password)?;
        let email = email.trim().to_lowercase();
        let found: Option<Credentials> = sqlx::query_as(
            "SELECT id, email, created_at, email_verified_at, password_hash FROM users WHERE email = $1",
        )
        .bind(&email)
        .fetch_optional(&self.db.pool)
        .await?;
        let device = match device_token {
            Some(token) => self.devices.find(token).await?,
            None => None,
        };
        let trusted: Option<TrustedDevice> = device.filter(|d| {
            found
                .as_ref()
                .is_some_and(|found| found.user.id == d.user_id)
        });

        let now = self.clock.now_ms();
        let wait = match &trusted {
            Some(device) => self.sign_in_by_device.retry_after(&device.digest, now),
            None => self
                .sign_in_by_email
                .retry_after(&email, now)
                .max(self.sign_in_by_client.retry_after(client_addr, now)),
        };
        if let Some(retry_after_secs) = wait {
            tracing::warn!(client = %client_addr, trusted = trusted.is_some(), "sign-in throttled");
            return Err(AppError::TooManyAttempts { retry_after_secs });
        }
        // Count the attempt before the slow check, so parallel guesses cannot all slip
        // under the limit; a correct password takes it back.
        match &trusted {
            Some(device) => self.sign_in_by_device.record(&device.digest, now),
            None => {
                // Each recent untrusted failure for the account slows the next attempt.
                let recent = self.sign_in_by_email.count(&email, now);
                self.sign_in_by_email.record(&email, now);
                self.sign_in_by_client.record(client_addr, now);
                if recent > 0 {
                    let delay_ms = 200 * recent.min(5) as u64;
                    tokio::time::sleep(Duration::from_millis(delay_ms)).await;
                }
            }
        }

        let (user, hash) = match found {
            Some(found) => (Some(found.user), found.password_hash),
            None => (None, password::decoy_hash().await?),
        };
        let password_ok = password::verify(hash, password.to_string()).await?;
        let Some(user) = user.filter(|_| password_ok) else {
            return Err(AppError::InvalidCredentials);
        };
        if self.two_factor.is_enabled(&user.id).await? {
            match code.map(str::trim).filter(|c| !c.is_empty()) {
                None => {
                    // The password was right: the attempt is taken back, and the code asked for.
                    match &trusted {
                        Some(device) => self.sign_in_by_device.forgive(&device.digest, now),
                        None => {
                            self.sign_in_by_email.forgive(&email, now);
                            self.sign_in_by_client.forgive(client_addr, now);
                        }
                    }
                    return Err(AppError::invalid(
                        "code",
                        "Enter the 6-digit code from your authenticator app, or a recovery code.",
                    ));
                }
                // A wrong code stays counted as a failure.
                Some(code) if !self.two_factor.verify(&user.id, code).await? => {
                    return Err(AppError::invalid(
                        "code",
                        "That code is not right. Enter the code your authenticator app shows now, or an unused recovery code.",
                    ));
                }
                Some(_) => {}
            }
        }
        match trusted {
            Some(device) => {
                self.sign_in_by_device.clear(&device.digest);
                self.devices.touch(&device).await?;
                Ok(SignedIn {
                    user,
                    device_token: device_token.unwrap_or_default().to_string(),
                    new_device: false,
                })
            }
            None => {
                self.sign_in_by_email.clear(&email);
                self.sign_in_by_client.forgive(client_addr, now);
                let when = crate::time_fmt::exact(now);
                self.mailer.send(super::emails::new_device(
                    &user.email,
                    &when,
                    client_addr,
                    user_agent,
                ));
                Ok(SignedIn {
                    device_token: self.devices.trust(&user.id).await?,
                    user,
                    new_device: true,
                })
            }
        }
    }
}

/// Writes a user row; registration and the benchmark seeder both come through here.
pub async fn insert_user<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    user: &User,
    password_hash: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO users (id, email, password_hash, created_at) VALUES ($1, $2, $3, $4)")
        .bind(&user.id)
        .bind(&user.email)
        .bind(password_hash)
        .bind(user.created_at)
        .execute(executor)
        .await?;
    Ok(())
}

fn email_taken() -> AppError {
    AppError::Validation(vec![FieldError::new(
        "email",
        "An account with this email already exists. Sign in instead, or reset its password if the address is yours.",
    )])
}

/// Sign-in only checks that something plausible was given; the rules are for new passwords.
fn check_sign_in_input(email: &str, password: &str) -> Result<(), AppError> {
    let mut errors = Vec::new();
    if email.trim().is_empty() {
        errors.push(FieldError::new("email", "Enter your email address."));
    } else if email.chars().count() > super::MAX_EMAIL_CHARS {
        errors.push(FieldError::new(
            "email",
            "That is longer than any email address we accept.",
        ));
    }
    if password.is_empty() {
        errors.push(FieldError::new("password", "Enter your password."));
    } else if password.chars().count() > super::MAX_PASSWORD_CHARS {
        errors.push(FieldError::new(
            "password",
            "That is longer than any password we accept.",
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errors))
    }
}
