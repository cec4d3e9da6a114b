//! The command line, run as the real binary against a real database file.

use crate::common;

use common::TestApp;
use std::process::{Command, Output};

fn keyward(args: &[&str], database_url: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_keyward"))
        .args(args)
        .env("DATABASE_URL", database_url)
        // An address nothing listens on twice: if a usage error ever started a server,
        // the test would hang on it rather than pass.
        .env("KEYWARD_ADDR", "127.0.0.1:1")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run keyward")
}

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn help_lists_every_subcommand_and_usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("cli.db").display());
    let help = keyward(&["--help"], &url);
    assert_eq!(help.status.code(), Some(0));
    let (out, _) = text(&help);
    for subcommand in ["serve", "admin", "credits", "promo", "plan", "ledger"] {
        assert!(
            out.contains(subcommand),
            "--help lacks {subcommand}:\n{out}"
        );
    }
    for args in [
        &["bogus"][..],
        &["--port", "80"],
        &["serve", "--extra"],
        &["admin"],
        &["admin", "grant"],
        &["credits", "grant", "a@example.com", "10"],
        &["credits", "grant", "a@example.com", "ten", "--reason", "x"],
        &["ledger", "fix"],
        &["plan", "set", "a@example.com"],
    ] {
        let output = keyward(args, &url);
        let (out, err) = text(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {out}{err}");
        assert!(
            err.contains("Usage:") || err.contains("--help"),
            "{args:?}: {err}"
        );
        assert!(
            !out.contains("listening") && !err.contains("listening"),
            "{args:?}"
        );
    }
    // Nothing above touched the database.
    assert!(!dir.path().join("cli.db").exists());
}

#[test]
fn a_mail_setting_that_cannot_work_stops_start_up_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("cli.db").display());
    for (name, value) in [
        ("KEYWARD_SMTP_URL", "mail.example.com:25"),
        ("KEYWARD_SMTP_URL", "http://mail.example.com"),
        (
            "KEYWARD_SMTP_URL",
            "smtp://user:hunter2hunter2@mail.example.com:port",
        ),
        ("KEYWARD_MAIL_FROM", "not an address"),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_keyward"))
            .arg("serve")
            .env("DATABASE_URL", &url)
            .env("KEYWARD_ADDR", "127.0.0.1:1")
            .env("RUST_LOG", "warn")
            .env(name, value)
            .output()
            .expect("run keyward");
        let (out, err) = text(&output);
        assert_eq!(output.status.code(), Some(1), "{name}={value}: {out}{err}");
        assert!(
            err.contains("configuration error") && err.contains(name),
            "{name}={value}: {err}"
        );
        assert!(!err.contains("hunter2"), "the password was shown: {err}");
        assert!(!err.contains("listening"), "{name}={value}: {err}");
    }
    assert!(!dir.path().join("cli.db").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_grant_admin_and_credits_and_verify_the_ledger() {
    let app = TestApp::sqlite().await;
    let url = format!("sqlite://{}", app.sqlite_path.as_ref().unwrap().display());
    let (email, _) = app.sign_up().await;
    let user_id: (String,) = sqlx::query_as("SELECT id FROM users WHERE email = $1")
        .bind(&email)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    let is_admin = || keyward::auth::admin::is_admin(&app.state.db, &user_id.0);

    let granted = keyward(&["admin", "grant", &email.to_uppercase()], &url);
    assert!(granted.status.success(), "{:?}", text(&granted));
    assert!(is_admin().await.unwrap());
    let revoked = keyward(&["admin", "revoke", &email], &url);
    assert!(revoked.status.success());
    assert!(!is_admin().await.unwrap());
    let nobody = keyward(&["admin", "grant", "nobody@example.com"], &url);
    assert_eq!(nobody.status.code(), Some(1));
    assert!(text(&nobody).1.contains("no account has the email"));

    let args = [
        "credits",
        "grant",
        &email,
        "500",
        "--reason",
        "Welcome credits",
        "--idempotency-key",
        "welcome",
    ];
    let first = keyward(&args, &url);
    let (out, err) = text(&first);
    assert!(first.status.success(), "{out}{err}");
    assert!(out.contains("balance 500"), "{out}");
    // The same grant, run again: made once.
    let again = keyward(&args, &url);
    assert!(again.status.success());
    assert!(text(&again).0.contains("already granted"));
    let deduct = keyward(
        &["credits", "grant", &email, "-120", "--reason", "Correction"],
        &url,
    );
    assert!(deduct.status.success(), "{:?}", text(&deduct));
    assert!(text(&deduct).0.contains("balance 380"));
    for bad in [
        vec!["credits", "grant", &email, "0", "--reason", "x"],
        vec!["credits", "grant", &email, "5", "--reason", "  "],
    ] {
        let output = keyward(&bad, &url);
        assert_eq!(output.status.code(), Some(1), "{bad:?}");
    }
    let owner = keyward::workspace::Owner::User(user_id.0.clone());
    assert_eq!(
        keyward::wallet::ledger::balance(&app.state.db, &owner)
            .await
            .unwrap(),
        380
    );

    // Acknowledged ids that are all in the ledger pass; one that is not is named.
    let page = keyward::wallet::ledger::entries(&app.state.db, &owner, None, None, 50)
        .await
        .unwrap();
    let ids_file = app
        .sqlite_path
        .as_ref()
        .unwrap()
        .with_file_name("acked.txt");
    let ids: Vec<String> = page.entries.iter().map(|e| e.id.clone()).collect();
    std::fs::write(&ids_file, ids.join("\n")).unwrap();
    let acked = keyward(
        &["ledger", "verify", "--charges", ids_file.to_str().unwrap()],
        &url,
    );
    assert!(acked.status.success(), "{:?}", text(&acked));
    assert!(text(&acked).0.contains("all 2 charges"));
    std::fs::write(&ids_file, format!("{}\nled_neverwritten", ids.join("\n"))).unwrap();
    let lost = keyward(
        &["ledger", "verify", "--charges", ids_file.to_str().unwrap()],
        &url,
    );
    assert_eq!(lost.status.code(), Some(1));
    assert!(text(&lost).0.contains("MISSING led_neverwritten"));

    let verified = keyward(&["ledger", "verify"], &url);
    assert!(verified.status.success(), "{:?}", text(&verified));
    assert!(text(&verified).0.contains("1 wallets"));
    sqlx::query("UPDATE wallets SET balance = 0")
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    let broken = keyward(&["ledger", "verify"], &url);
    assert_eq!(broken.status.code(), Some(1));
    assert!(text(&broken).0.contains("MISMATCH"));
}

#[test]
fn the_plans_print_as_a_file_that_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("plans.db").display());
    let printed = keyward(&["plans"], &url);
    let (out, err) = text(&printed);
    assert!(printed.status.success(), "{out}{err}");
    assert!(out.contains("id = \"standard\""), "{out}");
    assert!(out.contains("monthly_price = \"20.00\""), "{out}");
    // An operator's file, started from that: a cheaper Standard, no Pro.
    let file = dir.path().join("plans.toml");
    let edited = out
        .split("\n[[plan]]")
        .filter(|plan| !plan.contains("id = \"pro\""))
        .collect::<Vec<_>>()
        .join("\n[[plan]]")
        .replace("monthly_price = \"20.00\"", "monthly_price = \"15.00\"");
    std::fs::write(&file, edited).unwrap();
    let read = std::process::Command::new(env!("CARGO_BIN_EXE_keyward"))
        .arg("plans")
        .env("DATABASE_URL", &url)
        .env("KEYWARD_PLANS_FILE", &file)
        .output()
        .unwrap();
    let (out, err) = text(&read);
    assert!(read.status.success(), "{out}{err}");
    assert!(out.contains("monthly_price = \"15.00\""), "{out}");
    assert!(!out.contains("id = \"pro\""), "{out}");
    // A broken file stops the command (and the server) with the reason.
    std::fs::write(&file, "[[plan]]\nid = \"basic\"\n").unwrap();
    let broken = std::process::Command::new(env!("CARGO_BIN_EXE_keyward"))
        .arg("plans")
        .env("DATABASE_URL", &url)
        .env("KEYWARD_PLANS_FILE", &file)
        .output()
        .unwrap();
    assert!(!broken.status.success());
    assert!(
        text(&broken).1.contains("KEYWARD_PLANS_FILE"),
        "{}",
        text(&broken).1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_put_people_on_lab_plans() {
    let app = TestApp::sqlite().await;
    let url = format!("sqlite://{}", app.sqlite_path.as_ref().unwrap().display());
    let (email, _) = app.sign_up().await;
    let user = app.user_id(&email).await;
    let set = keyward(&["plan", "set", &email, "Pro"], &url);
    let (out, err) = text(&set);
    assert!(set.status.success(), "{out}{err}");
    assert!(
        out.contains("Pro plan (2000 compute hours a month)"),
        "{out}"
    );
    let account = keyward::lab::store::ensure_account(&app.state.db, &user, 0)
        .await
        .unwrap();
    assert_eq!(account.plan, "pro");
    let gold = keyward(&["plan", "set", &email, "gold"], &url);
    assert_eq!(gold.status.code(), Some(1));
    assert!(
        text(&gold)
            .1
            .contains("is not a plan; use free, standard or pro"),
        "{}",
        text(&gold).1
    );
    let nobody = keyward(&["plan", "set", "nobody@example.com", "free"], &url);
    assert_eq!(nobody.status.code(), Some(1));
    assert!(text(&nobody).1.contains("no account has the email"));
}
