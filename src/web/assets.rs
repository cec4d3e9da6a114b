//! The static files under `/pkg/` (wasm, JS, CSS, split chunks) and every response's
//! caching policy.
//!
//! `cargo leptos build --release -P` writes a `.br` and a `.gz` beside each file, and
//! `hash-files` puts a content hash in each name (listed in `hash.txt` beside the server
//! binary). tower-http's `ServeDir` picks the best encoding the request accepts and sets
//! `Content-Type` and `Content-Encoding`; `Vary: Accept-Encoding` (which `ServeDir` leaves
//! out) tells caches the answer depends on it. A hashed name can never change its content,
//! so it is cached for a year without revalidation.

use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use std::path::{Path, PathBuf};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

/// For a file whose name carries its content's hash.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// For everything else a browser may keep: it must ask again each time (an ETag or
/// Last-Modified answer is cheap), and shared caches keep nothing.
pub const REVALIDATE: &str = "private, no-cache";
/// For API answers, which may hold secrets (a new key's value) or per-person data.
pub const NO_STORE: &str = "no-store";

/// Whether the names under `/pkg/` carry hashes: `LEPTOS_HASH_FILES` if set, otherwise
/// whether cargo-leptos left a `hash.txt` beside this binary.
pub fn hash_files_enabled() -> bool {
    match std::env::var("LEPTOS_HASH_FILES") {
        Ok(value) => value.trim() == "true",
        Err(_) => hash_file_beside_binary().is_some_and(|path| path.is_file()),
    }
}

fn hash_file_beside_binary() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    Some(exe.parent()?.join("hash.txt"))
}

/// `/pkg/…` from `site_root/pkg_dir`, precompressed copies preferred; a missing file is a
/// plain 404, never the app's HTML.
pub fn pkg_router<S: Clone + Send + Sync + 'static>(site_root: &str, pkg_dir: &str) -> Router<S> {
    let dir = Path::new(site_root).join(pkg_dir);
    Router::new()
        .fallback_service(
            ServeDir::new(dir)
                .precompressed_br()
                .precompressed_gzip()
                .append_index_html_on_directories(false),
        )
        .layer(SetResponseHeaderLayer::if_not_present(
            header::VARY,
            HeaderValue::from_static("accept-encoding"),
        ))
}

/// Sets `Cache-Control` where a handler has not: immutable for hashed `/pkg/` files,
/// `no-store` for the APIs, revalidate-always (private) for pages and other files.
pub async fn cache_policy(request: Request, next: Next) -> Response {
    let policy = policy_for(request.method(), request.uri().path());
    let mut response = next.run(request).await;
    if response.headers().contains_key(header::CACHE_CONTROL) {
        return response;
    }
    let policy = match policy {
        Policy::Hashed if response.status() == StatusCode::OK => IMMUTABLE,
        Policy::Hashed | Policy::Revalidate => REVALIDATE,
        Policy::NoStore => NO_STORE,
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    response
}

#[derive(Debug, PartialEq)]
enum Policy {
    Hashed,
    NoStore,
    Revalidate,
}

fn policy_for(method: &Method, path: &str) -> Policy {
    if path.starts_with("/api/") || !(method == Method::GET || method == Method::HEAD) {
        Policy::NoStore
    } else if path.starts_with("/pkg/") && has_content_hash(path) {
        Policy::Hashed
    } else {
        Policy::Revalidate
    }
}

/// cargo-leptos names a hashed file `stem.HASH.ext`, HASH being 22 characters of
/// unpadded base64url (an MD5); `keyward.wasm` or `keyward_bg.wasm` are not hashed.
fn has_content_hash(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    let mut parts = name.rsplit('.');
    let _extension = parts.next();
    let Some(hash) = parts.next() else {
        return false;
    };
    parts.next().is_some()
        && hash.len() == 22
        && hash
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_cargo_leptos_hashed_names_count_as_hashed() {
        for hashed in [
            "/pkg/keyward.FPy_sg7lzORwkKS1uYIAaQ.wasm",
            "/pkg/keyward.V5-PJGzt6fzmBaPHDNLzKA.css",
            "/pkg/chunk_12.nuBm8IR_PzP49WbZbcY7uw.wasm",
            "/pkg/__wasm_split.GSFX29uWv9vJpvjOc5ZVeg.js",
        ] {
            assert_eq!(policy_for(&Method::GET, hashed), Policy::Hashed, "{hashed}");
        }
        for plain in [
            "/pkg/keyward.wasm",
            "/pkg/keyward_bg.wasm",
            "/pkg/FPy_sg7lzORwkKS1uYIAaQ.wasm",
            "/pkg/keyward.FPy_sg7lzORwkKS1uYIAa.wasm",
            "/pkg/keyward.FPy_sg7lzORwkKS1uYIA+Q.wasm",
            "/favicon.svg",
            "/sign-in",
        ] {
            assert_eq!(
                policy_for(&Method::GET, plain),
                Policy::Revalidate,
                "{plain}"
            );
        }
        assert_eq!(policy_for(&Method::GET, "/api/v1/keys"), Policy::NoStore);
        assert_eq!(policy_for(&Method::POST, "/sign-in"), Policy::NoStore);
    }
}
