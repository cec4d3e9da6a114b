//! `kill -9` under load: the real server binary, killed while keys are being created and
//! used, restarted on the same SQLite file. Every key whose creation was answered must
//! exist, and usage counts must never go backwards.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const PASSWORD: &str = "correct horse battery";

struct Server {
    child: Child,
    addr: String,
}

impl Server {
    async fn start(db_url: &str, addr: &str) -> Self {
        let child = Command::new(env!("CARGO_BIN_EXE_keyward"))
            .env("DATABASE_URL", db_url)
            .env("KEYWARD_ADDR", addr)
            .env("KEYWARD_SIGN_UPS_PER_HOUR", "1000")
            .env("KEYWARD_MAX_KEYS_PER_ACCOUNT", "1000000")
            .env("RUST_LOG", "warn")
            .env("LEPTOS_SITE_ROOT", "target/site")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the server binary");
        let server = Self {
            child,
            addr: addr.to_string(),
        };
        let started = Instant::now();
        loop {
            if let Ok(reply) = server.request("GET", "/api/v1/healthz", &[], "").await {
                if reply.starts_with("HTTP/1.1 200") {
                    return server;
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "server never answered"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> std::io::Result<String> {
        request(&self.addr, method, path, headers, body).await
    }

    fn kill_9(mut self) {
        // `Child::kill` sends SIGKILL: no shutdown hook, no final flush.
        self.child.kill().expect("SIGKILL");
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request on a fresh connection; answers the whole response.
async fn request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(addr).await?;
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    Ok(String::from_utf8_lossy(&response).into_owned())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn body_of(response: &str) -> &str {
    response.split_once("\r\n\r\n").map_or("", |(_, b)| b)
}

fn json_of(response: &str) -> serde_json::Value {
    let body = body_of(response);
    // Chunked bodies: take the JSON between the first '{'/'[' and the last '}'/']'.
    let start = body.find(['{', '[', '"']).unwrap_or(0);
    let end = body.rfind(['}', ']', '"']).map_or(body.len(), |e| e + 1);
    serde_json::from_str(&body[start..end.max(start)]).unwrap_or(serde_json::Value::Null)
}

async fn total_requests(server: &Server, cookie: &str, key_id: &str) -> i64 {
    let origin = format!("http://{}", server.addr);
    let reply = server
        .request(
            "POST",
            "/api/key_details",
            &[
                ("Origin", &origin),
                ("Cookie", cookie),
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Accept", "application/json"),
            ],
            &format!("id={key_id}"),
        )
        .await
        .expect("details");
    json_of(&reply)["usage"]["total"].as_i64().unwrap_or(-1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_loses_nothing_that_was_answered() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = format!("sqlite://{}", dir.path().join("crash.db").display());
    let addr = format!("127.0.0.1:{}", free_port());
    let server = Server::start(&db_url, &addr).await;
    let origin = format!("http://{addr}");

    let signed_up = server
        .request(
            "POST",
            "/api/sign_up",
            &[
                ("Origin", &origin),
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Accept", "application/json"),
            ],
            &format!(
                "email=crash%40example.com&password={}",
                PASSWORD.replace(' ', "+")
            ),
        )
        .await
        .unwrap();
    let cookie = signed_up
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: keyward_session="))
        .map(|v| format!("keyward_session={}", v.split(';').next().unwrap_or("")))
        .expect("session cookie");
    let shared = (addr.clone(), origin.clone(), cookie.clone());
    let create = move |name: String| {
        let (server_addr, origin, cookie) = shared.clone();
        async move {
            let body =
                serde_json::json!({"name": name, "scopes": ["account:read"], "expiry": "never"});
            let reply = request(
                &server_addr,
                "POST",
                "/api/create_key",
                &[
                    ("Origin", &origin),
                    ("Cookie", &cookie),
                    ("Content-Type", "application/json"),
                    ("Accept", "application/json"),
                ],
                &body.to_string(),
            )
            .await;
            reply
                .ok()
                .filter(|r| r.starts_with("HTTP/1.1 200"))
                .map(|r| json_of(&r))
        }
    };
    let first = create("busy".into()).await.expect("first key");
    let (busy_id, busy_secret) = (
        first["key"]["id"].as_str().unwrap().to_string(),
        first["secret"].as_str().unwrap().to_string(),
    );

    // Load: keys being created and a key being used, all at once.
    let creators: Vec<_> = (0..2)
        .map(|worker| {
            let create = create.clone();
            tokio::spawn(async move {
                let mut answered = Vec::new();
                for i in 0.. {
                    match create(format!("w{worker}-{i}")).await {
                        Some(created) => {
                            answered.push(created["key"]["id"].as_str().unwrap().to_string())
                        }
                        None => break,
                    }
                }
                answered
            })
        })
        .collect();
    let user = {
        let (addr, secret) = (addr.clone(), busy_secret.clone());
        tokio::spawn(async move {
            let bearer = format!("Bearer {secret}");
            while request(
                &addr,
                "GET",
                "/api/v1/me",
                &[("Authorization", &bearer)],
                "",
            )
            .await
            .is_ok()
            {}
        })
    };
    // Counted and flushed before the crash (flushes happen every second).
    let started = std::time::Instant::now();
    let mut before = 0;
    while before == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "usage was flushed before the crash"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        before = total_requests(&server, &cookie, &busy_id).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.kill_9();

    let mut answered = Vec::new();
    for creator in creators {
        answered.extend(creator.await.unwrap());
    }
    user.await.unwrap();
    assert!(!answered.is_empty(), "keys were created under load");

    let server = Server::start(&db_url, &addr).await;
    let listed = server
        .request(
            "POST",
            "/api/list_keys",
            &[
                ("Origin", &origin),
                ("Cookie", &cookie),
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Accept", "application/json"),
            ],
            "",
        )
        .await
        .unwrap();
    let listed = json_of(&listed);
    let ids: Vec<&str> = listed["keys"]
        .as_array()
        .expect("the list after restart")
        .iter()
        .filter_map(|k| k["id"].as_str())
        .collect();
    for id in &answered {
        assert!(
            ids.contains(&id.as_str()),
            "key {id} was answered, then lost"
        );
    }
    let after = total_requests(&server, &cookie, &busy_id).await;
    assert!(
        after >= before,
        "usage went backwards: {before} then {after}"
    );
    eprintln!(
        "kill -9: {} keys answered before the crash, all present after; usage {before} -> {after}",
        answered.len()
    );
    server.kill_9();
}
