//! `/pkg/` serves the precompressed copy the browser accepts, and caching follows the
//! name: hashed assets for a year, pages and unhashed files revalidated, APIs never stored.

use crate::common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{TestApp, HOST};
use keyward::web::assets::{IMMUTABLE, NO_STORE, REVALIDATE};

const HASHED: &str = "keyward.AbCdEfGhIjKlMnOpQrStUv.wasm";

/// A site directory like cargo-leptos's release output: a hashed wasm with its `.br`
/// and `.gz` copies (contents told apart by text), and one unhashed stylesheet.
fn site() -> tempfile::TempDir {
    let site = tempfile::tempdir().expect("temp dir");
    let pkg = site.path().join("pkg");
    std::fs::create_dir(&pkg).expect("pkg dir");
    std::fs::write(pkg.join(HASHED), "plain wasm").expect("write");
    std::fs::write(pkg.join(format!("{HASHED}.br")), "brotli wasm").expect("write");
    std::fs::write(pkg.join(format!("{HASHED}.gz")), "gzip wasm").expect("write");
    std::fs::write(pkg.join("keyward.css"), "body{}").expect("write");
    site
}

async fn fetch(app: &TestApp, path: &str, accept_encoding: Option<&str>) -> common::Reply {
    let mut request = Request::get(path).header(header::HOST, HOST);
    if let Some(encodings) = accept_encoding {
        request = request.header(header::ACCEPT_ENCODING, encodings);
    }
    app.send(request.body(Body::empty()).unwrap()).await
}

#[tokio::test]
async fn hashed_wasm_comes_in_the_best_accepted_encoding_and_is_cached_for_a_year() {
    let site = site();
    let app = TestApp::sqlite_with_site(site.path()).await;
    let path = format!("/pkg/{HASHED}");

    for (accepts, encoding, body) in [
        (Some("gzip, deflate, br, zstd"), Some("br"), "brotli wasm"),
        (Some("gzip"), Some("gzip"), "gzip wasm"),
        (None, None, "plain wasm"),
    ] {
        let reply = fetch(&app, &path, accepts).await;
        assert_eq!(reply.status, StatusCode::OK, "accepting {accepts:?}");
        assert_eq!(reply.body, body, "accepting {accepts:?}");
        assert_eq!(reply.header("content-encoding").as_deref(), encoding);
        assert_eq!(
            reply.header("content-type").as_deref(),
            Some("application/wasm")
        );
        assert_eq!(reply.header("cache-control").as_deref(), Some(IMMUTABLE));
        let vary = reply
            .header("vary")
            .unwrap_or_default()
            .to_ascii_lowercase();
        assert!(vary.contains("accept-encoding"), "vary: {vary}");
    }
}

#[tokio::test]
async fn unhashed_files_missing_files_and_pages_are_never_cached_by_shared_caches() {
    let site = site();
    let app = TestApp::sqlite_with_site(site.path()).await;

    let css = fetch(&app, "/pkg/keyward.css", Some("br")).await;
    assert_eq!(css.status, StatusCode::OK);
    assert_eq!(css.header("content-type").as_deref(), Some("text/css"));
    assert_eq!(css.header("cache-control").as_deref(), Some(REVALIDATE));

    // A hashed name that does not exist (an old release's file) is a plain 404 that
    // nobody may keep: the next release might serve it.
    let missing = fetch(&app, "/pkg/keyward.ZZZZZZZZZZZZZZZZZZZZZZ.wasm", Some("br")).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.header("cache-control").as_deref(), Some(REVALIDATE));
    assert!(
        !missing.body.contains("<html"),
        "404 under /pkg/ is not a page"
    );

    let page = fetch(&app, "/sign-in", Some("br")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.header("cache-control").as_deref(), Some(REVALIDATE));

    let api = fetch(&app, "/api/v1/keys", None).await;
    assert_eq!(api.status, StatusCode::UNAUTHORIZED);
    assert_eq!(api.header("cache-control").as_deref(), Some(NO_STORE));
}
