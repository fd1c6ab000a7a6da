//! Identifiers the simulator makes up: installation tokens, request ids, GraphQL node ids.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

const ALPHANUMERIC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Random bytes from the OS. A failure of the OS generator is not worth a fallible API in a test
/// tool, so it degrades to a counter-and-time mix, which is still unique within the process.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    if getrandom::fill(&mut buf).is_err() {
        use std::sync::atomic::{AtomicU64, Ordering};
        static FALLBACK: AtomicU64 = AtomicU64::new(1);
        let seed =
            FALLBACK.fetch_add(1, Ordering::Relaxed) ^ crate::clock::now_epoch().cast_unsigned();
        for (i, b) in buf.iter_mut().enumerate() {
            *b = (seed.rotate_left((i % 64) as u32) & 0xff) as u8;
        }
    }
    buf
}

/// A GitHub-shaped installation token: `ghs_` and 36 alphanumerics.
pub(crate) fn installation_token() -> String {
    let raw = random_bytes::<36>();
    let tail: String = raw
        .iter()
        .map(|b| char::from(ALPHANUMERIC[usize::from(*b) % ALPHANUMERIC.len()]))
        .collect();
    format!("ghs_{tail}")
}

/// `x-github-request-id`, in GitHub's colon-separated hex style.
pub(crate) fn request_id(seq: u64) -> String {
    let r = random_bytes::<4>();
    format!(
        "{:04X}:{:X}:{}:{seq:X}",
        u16::from_be_bytes([r[0], r[1]]),
        std::process::id(),
        hex::encode_upper(&r[2..])
    )
}

/// An opaque node id; GitHub's are base64 of a typed key, so ours are too.
pub(crate) fn node_id(kind: &str, key: &str) -> String {
    format!(
        "{kind}_{}",
        STANDARD.encode(key.as_bytes()).trim_end_matches('=')
    )
}
