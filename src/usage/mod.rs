//! Usage of API keys: every authenticated REST request, buffered in memory and
//! written in batches so no database write sits on the request's path.

#[cfg(feature = "ssr")]
pub mod recorder;
