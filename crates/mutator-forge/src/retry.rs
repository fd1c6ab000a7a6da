//! Reads tried again when the forge fails transiently. A read is safe to repeat, and trying one
//! read again is far cheaper than starting over whatever it was part of.

use std::future::Future;
use std::time::Duration;

use crate::error::ForgeError;

/// How often one read is tried in all.
const READ_ATTEMPTS: u32 = 3;

/// Runs the read `read` again (after 10, then 20 ms) while it fails with
/// [`ForgeError::Transient`]; `what` names it in the debug log.
pub async fn retry_read<T, F, Fut>(what: &str, mut read: F) -> Result<T, ForgeError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ForgeError>>,
{
    let mut attempt = 1;
    loop {
        match read().await {
            Err(ForgeError::Transient(reason)) if attempt < READ_ATTEMPTS => {
                tracing::debug!(what, attempt, %reason, "retrying a read");
                tokio::time::sleep(Duration::from_millis(10 * u64::from(attempt))).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}
