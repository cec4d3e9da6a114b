/// mimalloc instead of glibc's malloc: after a burst of many small allocations (a usage
/// flush of 10,000 keys) glibc's free lists stay fragmented and `_int_malloc` went from
/// 3% to 10% of the server's CPU, slowing charges by a fifth (BENCHMARKS.md).
#[cfg(feature = "ssr")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(feature = "ssr")]
#[tokio::main]
async fn main() -> std::process::ExitCode {
    keyward::web::cli::main().await
}

#[cfg(not(feature = "ssr"))]
pub fn main() {
    // The browser entry point is `hydrate()` in lib.rs.
}
