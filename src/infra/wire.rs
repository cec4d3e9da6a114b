//! How server-function answers and server-rendered resource values cross to the browser.
//!
//! The wire format is JSON, exactly as Leptos's default codecs write it (tests and
//! people's tools read it as JSON). What differs is how the browser reads it: into a
//! `serde_json::Value` first, then into the type. Leptos's default codecs parse JSON
//! straight into each type, which compiles serde_json's whole streaming parser once for
//! every type that crosses the wire (about 5 KB of wasm per struct); going through
//! `Value` compiles the parser once and leaves each type only its small walk over a
//! parsed tree. The answers are a few kilobytes, so the extra tree costs nothing a
//! person could notice.

use bytes::Bytes;
use leptos::server_fn::{ContentType, Decodes, Encodes, Format, FormatType};
use serde::{de::DeserializeOwned, Serialize};

/// The server-function encoding: `#[server(…, output = Wire)]`.
pub struct WireEncoding;

/// Answers as JSON in the body of the `POST` that called the server function.
pub type Wire = leptos::server_fn::codec::Post<WireEncoding>;

impl ContentType for WireEncoding {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for WireEncoding {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for WireEncoding {
    type Error = serde_json::Error;

    fn encode(output: &T) -> Result<Bytes, Self::Error> {
        serde_json::to_vec(output).map(Bytes::from)
    }
}

impl<T: DeserializeOwned> Decodes<T> for WireEncoding {
    type Error = serde_json::Error;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        from_json(&bytes)
    }
}

/// The resource codec: `Resource<T, WireCodec>` (see `components::resource::load`).
pub struct WireCodec;

impl<T: Serialize> codee::Encoder<T> for WireCodec {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(value: &T) -> Result<String, Self::Error> {
        serde_json::to_string(value)
    }
}

impl<T: DeserializeOwned> codee::Decoder<T> for WireCodec {
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(text: &str) -> Result<T, Self::Error> {
        from_json(text.as_bytes())
    }
}

/// A resource whose server-rendered value the browser reads with [`WireCodec`].
pub type Loaded<T> = leptos::prelude::Resource<T, WireCodec>;

/// `Resource::new`, with the value crossing to the browser through [`WireCodec`].
#[track_caller]
pub fn load<T, S, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> Loaded<T>
where
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    S: PartialEq + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    Loaded::new_with_options(source, fetcher, false)
}

/// `Resource::new_blocking` (the response waits for it), through [`WireCodec`].
#[track_caller]
pub fn load_blocking<T, S, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> Loaded<T>
where
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    S: PartialEq + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    Loaded::new_with_options(source, fetcher, true)
}

/// Parses JSON through one `Value` parser, then walks the tree into `T`.
pub fn from_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, serde_json::Error> {
    let value: serde_json::Value = serde_json::from_slice(bytes)?;
    T::deserialize(value)
}

#[cfg(test)]
mod tests {
    use super::from_json;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    enum Kind {
        Plain,
        Named { name: String },
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Answer {
        id: u64,
        balance: i64,
        rate: f64,
        note: Option<String>,
        kinds: Vec<Kind>,
        result: Result<u32, String>,
    }

    #[test]
    fn what_the_server_writes_reads_back_the_same_through_the_tree() {
        let answer = Answer {
            id: u64::MAX,
            balance: i64::MIN,
            rate: 0.1,
            note: None,
            kinds: vec![
                Kind::Plain,
                Kind::Named {
                    name: "é\u{1F600}\"\\".into(),
                },
            ],
            result: Err("no".into()),
        };
        let bytes = serde_json::to_vec(&answer).unwrap();
        assert_eq!(from_json::<Answer>(&bytes).unwrap(), answer);
        assert_eq!(
            from_json::<Answer>(&bytes).unwrap(),
            serde_json::from_slice::<Answer>(&bytes).unwrap()
        );
    }

    #[test]
    fn a_malformed_or_mistyped_answer_is_an_error_not_a_panic() {
        assert!(from_json::<Answer>(b"{").is_err());
        assert!(from_json::<Answer>(b"[]").is_err());
        assert!(from_json::<Answer>(br#"{"id":-1}"#).is_err());
        assert!(from_json::<u32>(b"\"12\"").is_err());
    }
}
