//! Who is calling: static tokens with a username and scopes (forge-facts §G.1).
//!
//! Identification ([`authenticate`]) is apart from authorisation ([`GlCaller::allows`]), which
//! the gate applies per request method.

use std::collections::{BTreeMap, HashMap};

use axum::http::{HeaderMap, header};

use super::error::GlError;
use super::state::GitlabState;
use crate::git_store::Person;

/// The identity behind one token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GlCaller {
    pub(crate) user_id: u64,
    pub(crate) username: String,
    pub(crate) scopes: Vec<String>,
}

impl GlCaller {
    /// Key in [`super::GitlabStats::by_token`].
    pub(crate) fn label(&self) -> String {
        format!("token:{}", self.username)
    }

    pub(crate) fn email(&self) -> String {
        user_email(&self.username)
    }

    /// Author and committer of commits made with this token.
    pub(crate) fn person(&self) -> Person {
        Person::new(&self.username, &self.email())
    }

    fn has(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// `api` allows everything; `read_api` only reads.
    pub(crate) fn allows(&self, write: bool) -> bool {
        self.has("api") || (!write && self.has("read_api"))
    }
}

pub(crate) fn user_email(username: &str) -> String {
    format!("{username}@gitlab-sim.invalid")
}

#[derive(Debug)]
pub(crate) struct Tokens {
    by_token: HashMap<String, GlCaller>,
    user_ids: BTreeMap<String, u64>,
    next_user_id: u64,
}

impl Default for Tokens {
    fn default() -> Self {
        Tokens {
            by_token: HashMap::new(),
            user_ids: BTreeMap::new(),
            next_user_id: 1,
        }
    }
}

impl Tokens {
    /// Registers (or replaces) `token`; tokens of the same username share one user id.
    pub(crate) fn add(&mut self, token: &str, username: &str, scopes: &[&str]) {
        let user_id = match self.user_ids.get(username) {
            Some(id) => *id,
            None => {
                let id = self.next_user_id;
                self.next_user_id += 1;
                self.user_ids.insert(username.to_owned(), id);
                id
            }
        };
        self.by_token.insert(
            token.to_owned(),
            GlCaller {
                user_id,
                username: username.to_owned(),
                scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            },
        );
    }

    fn find(&self, token: &str) -> Option<GlCaller> {
        self.by_token.get(token).cloned()
    }
}

/// The token of a request: `PRIVATE-TOKEN`, else `Authorization: Bearer`.
fn presented_token(headers: &HeaderMap) -> Option<String> {
    if let Some(v) = headers.get("private-token") {
        return v.to_str().ok().map(|s| s.trim().to_owned());
    }
    let auth = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = auth.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| rest.trim().to_owned())
}

/// Who sent the request; 401 when no known token was presented.
pub(crate) fn authenticate(state: &GitlabState, headers: &HeaderMap) -> Result<GlCaller, GlError> {
    let token = presented_token(headers).ok_or_else(GlError::unauthorized)?;
    state
        .tokens()
        .find(&token)
        .ok_or_else(GlError::unauthorized)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_gate_reads_and_writes() {
        let mut t = Tokens::default();
        t.add("w", "alice", &["api"]);
        t.add("r", "alice", &["read_api"]);
        t.add("n", "bob", &["read_user"]);
        let (w, r, n) = (
            t.find("w").unwrap(),
            t.find("r").unwrap(),
            t.find("n").unwrap(),
        );
        assert_eq!(w.user_id, r.user_id);
        assert_ne!(w.user_id, n.user_id);
        assert!(w.allows(true) && w.allows(false));
        assert!(!r.allows(true) && r.allows(false));
        assert!(!n.allows(false));
    }

    #[test]
    fn reads_both_header_styles() {
        let mut h = HeaderMap::new();
        h.insert("private-token", "abc".parse().unwrap());
        assert_eq!(presented_token(&h).as_deref(), Some("abc"));
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, "Bearer xyz".parse().unwrap());
        assert_eq!(presented_token(&h).as_deref(), Some("xyz"));
        h.insert(header::AUTHORIZATION, "Basic xyz".parse().unwrap());
        assert_eq!(presented_token(&h), None);
    }
}
