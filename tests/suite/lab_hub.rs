//! Keyward's JupyterHub client against the real hub `make test` starts
//! (scripts/test-hub.sh: JupyterHub 6.1.1, local JupyterLab servers, on loopback):
//! users, a server's start and stop as the hub reports them, and the hub down or
//! refusing the token.

use keyward::infra::hub_config::HubConnection;
use keyward::infra::jupyterhub::{Hub, HubError, ServerState};
use std::time::Duration;

fn test_hub() -> (String, String) {
    let var = |name: &str| {
        std::env::var(name).unwrap_or_else(|_| {
            panic!("{name} must name the test JupyterHub; make test starts one")
        })
    };
    (var("TEST_JUPYTERHUB_URL"), var("TEST_JUPYTERHUB_API_TOKEN"))
}

fn hub_at(url: &str, api_token: &str) -> Hub {
    Hub::new(&HubConnection {
        url: url.to_string(),
        api_token: api_token.into(),
    })
    .expect("a client")
}

fn fresh_name() -> String {
    format!(
        "kw-test-{}",
        keyward::infra::random::base62(12).unwrap().to_lowercase()
    )
}

/// Reads the user's server until `done` holds (the hub starts and stops in the background).
async fn wait_until(
    hub: &Hub,
    name: &str,
    what: &str,
    done: impl Fn(&ServerState) -> bool,
) -> ServerState {
    for _ in 0..300 {
        let state = hub
            .user(name)
            .await
            .expect("the hub answers")
            .expect("the user")
            .server;
        if done(&state) {
            return state;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{name}'s server never became {what}");
}

async fn active_names(hub: &Hub) -> Vec<String> {
    let users = hub.active_users().await.expect("the hub answers");
    users.into_iter().map(|u| u.name).collect()
}

#[tokio::test]
async fn a_server_starts_and_stops_through_the_hub() {
    let (url, token) = test_hub();
    let hub = hub_at(&url, &token);
    assert_eq!(hub.version().await.unwrap(), "6.1.1");
    let name = fresh_name();
    assert_eq!(hub.user(&name).await.unwrap(), None);
    hub.ensure_user(&name).await.unwrap();
    hub.ensure_user(&name)
        .await
        .expect("creating a user twice is fine");
    let user = hub.user(&name).await.unwrap().expect("created");
    assert_eq!(user.server, ServerState::Stopped);

    hub.start(&name).await.unwrap();
    let running = wait_until(&hub, &name, "running", |s| {
        matches!(s, ServerState::Running { .. })
    })
    .await;
    let ServerState::Running { started_at_ms, .. } = running else {
        unreachable!()
    };
    assert!(started_at_ms.is_some(), "the hub says when it started");
    let user = hub.user(&name).await.unwrap().unwrap();
    assert_eq!(
        user.server_url.as_deref(),
        Some(format!("/user/{name}/").as_str())
    );
    hub.start(&name)
        .await
        .expect("starting a running server is fine");
    let active = active_names(&hub).await;
    assert!(active.contains(&name), "{active:?}");

    hub.stop(&name).await.unwrap();
    wait_until(&hub, &name, "stopped", |s| *s == ServerState::Stopped).await;
    let active = active_names(&hub).await;
    assert!(!active.contains(&name), "{active:?}");
    hub.stop(&name)
        .await
        .expect("stopping a stopped server is fine");
}

#[tokio::test]
async fn a_hub_that_is_down_or_refuses_the_token_says_so() {
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let down = hub_at(
        &format!("http://127.0.0.1:{port}"),
        "a-token-nobody-checks-0123",
    );
    assert_eq!(down.version().await, Err(HubError::Unavailable));
    assert_eq!(down.user("anyone").await, Err(HubError::Unavailable));
    assert_eq!(down.start("anyone").await, Err(HubError::Unavailable));

    let (url, _) = test_hub();
    let wrong = hub_at(&url, "not-the-service-token-0123456789");
    match wrong.user("anyone").await {
        Err(HubError::Refused { status: 403, .. }) => {}
        other => panic!("a wrong token is refused, not {other:?}"),
    }
    match wrong.start("anyone").await {
        Err(HubError::Refused { status: 403, .. }) => {}
        other => panic!("a wrong token is refused, not {other:?}"),
    }
}
