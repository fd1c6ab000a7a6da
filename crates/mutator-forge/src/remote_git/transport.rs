//! What every network operation shares: the callbacks handed to libgit2, what they observed,
//! and how a libgit2 failure becomes a [`ForgeError`] without leaking credentials.

use std::cell::{Cell, RefCell};
use std::time::Instant;

use git2::{ErrorClass, ErrorCode, Oid, RemoteCallbacks};
use secrecy::ExposeSecret;

use super::Shared;
use super::auth;
use super::settings::{RemoteAuth, Scheme};
use crate::error::ForgeError;

/// What the callbacks of one fetch or push saw, read after libgit2 returns.
#[derive(Debug, Default)]
pub(crate) struct OpState {
    /// Answers given with a password or key (libgit2 asks again after a refusal).
    pub auth_attempts: Cell<u32>,
    /// We stopped answering: the credentials were refused or none fit.
    pub auth_refused: Cell<bool>,
    /// The ssh host key could not be verified, and why.
    pub host_key_problem: RefCell<Option<String>>,
    /// The deadline passed and a callback cancelled the operation.
    pub timed_out: Cell<bool>,
    /// Push: the branch head the remote advertised (`None`: no such branch).
    pub remote_old: Cell<Option<Option<Oid>>>,
    /// Push: the advertised head was not the expected one, so nothing was sent.
    pub moved: Cell<bool>,
    /// Push: the status the remote reported for our ref, when it refused the update.
    pub refused: RefCell<Option<String>>,
}

impl OpState {
    /// Whether there is still time; records a timeout when not.
    pub fn within(&self, deadline: Instant) -> bool {
        if Instant::now() > deadline {
            self.timed_out.set(true);
            false
        } else {
            true
        }
    }
}

/// Credentials, host key checks and deadline checks for one operation.
pub(crate) fn callbacks<'a>(
    shared: &'a Shared,
    state: &'a OpState,
    deadline: Instant,
) -> RemoteCallbacks<'a> {
    let mut cb = RemoteCallbacks::new();
    cb.credentials(move |_url, username, allowed| {
        auth::credentials(&shared.auth, &shared.url, state, username, allowed)
    });
    cb.certificate_check(move |cert, host| {
        auth::certificate_check(&shared.auth, &shared.url, state, cert, host)
    });
    cb.transfer_progress(move |_| state.within(deadline));
    cb.sideband_progress(move |_| state.within(deadline));
    cb
}

/// Turns the failure of a network operation into what the layer above acts on.
pub(crate) fn classify(e: &git2::Error, state: &OpState, shared: &Shared) -> ForgeError {
    let url = &shared.url.redacted;
    let message = scrub(e.message(), &shared.auth);
    if state.timed_out.get() {
        return ForgeError::Transient(format!(
            "git operation on {url} did not finish within {:?}",
            shared.timeout
        ));
    }
    if let Some(why) = state.host_key_problem.borrow().as_ref() {
        return ForgeError::Unauthorized(scrub(why, &shared.auth));
    }
    if state.auth_refused.get() || e.code() == ErrorCode::Auth {
        return ForgeError::Unauthorized(format!("{url}: {message}"));
    }
    match e.class() {
        ErrorClass::Http if has_status(&message, "401") || has_status(&message, "403") => {
            ForgeError::Unauthorized(format!("{url}: {message}"))
        }
        ErrorClass::Http if has_status(&message, "404") => {
            ForgeError::NotFound(format!("there is no git repository at {url} ({message})"))
        }
        _ if e.code() == ErrorCode::NotFound
            || (shared.url.scheme == Scheme::File
                && (message.contains("No such file or directory")
                    || message.contains("could not find repository"))) =>
        {
            ForgeError::NotFound(format!("there is no git repository at {url} ({message})"))
        }
        // Everything else happened talking to the remote: connection refused or reset, DNS,
        // TLS, a 5xx, a cut-off pack. Trying again later may work.
        _ => ForgeError::Transient(format!("{url}: {message}")),
    }
}

fn has_status(message: &str, code: &str) -> bool {
    message
        .split(|c: char| !c.is_ascii_digit())
        .any(|word| word == code)
}

/// Removes URL user information and the configured password from a message.
pub(crate) fn scrub(message: &str, auth: &RemoteAuth) -> String {
    let mut out = strip_userinfo(message);
    if let RemoteAuth::Basic { password, .. } = auth {
        let secret = password.expose_secret();
        if secret.len() >= 3 {
            out = out.replace(secret, "<redacted>");
        }
    }
    out
}

/// Drops `user[:password]@` after every `://` in free text.
fn strip_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c == '/' || c.is_whitespace() || c == '\'' || c == '"')
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(i) => out.push_str(&authority[i + 1..]),
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;

    use super::*;

    #[test]
    fn scrub_removes_userinfo_and_password() {
        let auth = RemoteAuth::Basic {
            username: SecretString::from("bot"),
            password: SecretString::from("hunter22"),
        };
        let text = scrub(
            "failed for 'http://bot:hunter22@h:1/r.git' and http://x@y/z; pw hunter22",
            &auth,
        );
        assert_eq!(
            text,
            "failed for 'http://h:1/r.git' and http://y/z; pw <redacted>"
        );
    }

    #[test]
    fn status_codes_are_whole_numbers() {
        assert!(has_status("unexpected http status code: 404", "404"));
        assert!(!has_status("request 14041 failed", "404"));
    }
}
