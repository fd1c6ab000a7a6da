//! Who is calling: static tokens, installation tokens the simulator issued, and app JWTs.
//!
//! Identification is kept apart from authorisation: [`authenticate`] only says who the caller
//! is; each handler asks [`Caller`] whether that identity may touch a repository.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode, header};

use crate::error::{ApiError, DOC_REST};
use crate::git_store::Person;
use crate::state::SimState;

/// A token registered by the test, acting as a user.
#[derive(Debug, Clone)]
pub(crate) struct StaticToken {
    pub(crate) user_id: u64,
    pub(crate) login: String,
    /// `None` = every repository; otherwise lower-case `owner/name` keys.
    pub(crate) repos: Option<BTreeSet<String>>,
}

/// An installation token issued by `POST /app/installations/{id}/access_tokens`.
#[derive(Debug, Clone)]
pub(crate) struct IssuedToken {
    pub(crate) installation_id: u64,
    pub(crate) repos: BTreeSet<String>,
    pub(crate) expires_at: i64,
    pub(crate) seq: usize,
    pub(crate) bot: Person,
}

#[derive(Debug)]
pub(crate) struct Tokens {
    pub(crate) statics: HashMap<String, StaticToken>,
    pub(crate) issued: HashMap<String, IssuedToken>,
    pub(crate) ttl: Duration,
    pub(crate) issued_count: usize,
    next_user_id: u64,
}

impl Default for Tokens {
    fn default() -> Self {
        Tokens {
            statics: HashMap::new(),
            issued: HashMap::new(),
            ttl: Duration::from_secs(3600),
            issued_count: 0,
            next_user_id: 1,
        }
    }
}

impl Tokens {
    pub(crate) fn add_static(&mut self, token: &str, login: &str, repos: Option<BTreeSet<String>>) {
        let user_id = self.next_user_id;
        self.next_user_id += 1;
        self.statics.insert(
            token.to_owned(),
            StaticToken {
                user_id,
                login: login.to_owned(),
                repos,
            },
        );
    }
}

/// The authenticated identity of one request.
#[derive(Debug, Clone)]
pub(crate) enum Caller {
    User {
        token: String,
        user_id: u64,
        login: String,
        repos: Option<BTreeSet<String>>,
    },
    Installation {
        installation_id: u64,
        seq: usize,
        repos: BTreeSet<String>,
        bot: Person,
    },
    App {
        app_id: u64,
    },
}

impl Caller {
    /// Key of the primary rate-limit budget (what `set_primary_limit` names).
    pub(crate) fn bucket(&self) -> String {
        match self {
            Caller::User { token, .. } => token.clone(),
            Caller::Installation {
                installation_id, ..
            } => format!("installation:{installation_id}"),
            Caller::App { app_id } => format!("app:{app_id}"),
        }
    }

    /// Key in [`crate::Stats::by_credential`].
    pub(crate) fn label(&self) -> String {
        match self {
            Caller::User { login, .. } => format!("token:{login}"),
            Caller::Installation {
                installation_id,
                seq,
                ..
            } => format!("installation:{installation_id}#{seq}"),
            Caller::App { app_id } => format!("app:{app_id}"),
        }
    }

    /// Who GitHub says was over the limit, in its message wording.
    pub(crate) fn limit_subject(&self) -> String {
        match self {
            Caller::User { user_id, .. } => format!("user ID {user_id}"),
            Caller::Installation {
                installation_id, ..
            } => format!("installation ID {installation_id}"),
            Caller::App { app_id } => format!("app ID {app_id}"),
        }
    }

    /// The commit author for API-made commits (forge-facts §B.1: the credential's owner).
    pub(crate) fn person(&self) -> Person {
        match self {
            Caller::User { login, .. } => {
                Person::new(login, &format!("{login}@users.noreply.sim.invalid"))
            }
            Caller::Installation { bot, .. } => bot.clone(),
            Caller::App { .. } => Person::new("sim-app", "app@sim.invalid"),
        }
    }

    pub(crate) fn login(&self) -> String {
        match self {
            Caller::User { login, .. } => login.clone(),
            Caller::Installation { bot, .. } => bot.name.clone(),
            Caller::App { app_id } => format!("app-{app_id}"),
        }
    }

    /// GitHub signs API commits only for app installations (forge-facts §B.3).
    pub(crate) fn signs_commits(&self) -> bool {
        matches!(self, Caller::Installation { .. })
    }

    /// May this caller use repository `key` (lower-case `owner/name`)? Answers the error to
    /// return otherwise: 404 for no access (GitHub hides what you cannot see), 403 for an app
    /// JWT, which only works on `/app` endpoints.
    pub(crate) fn check_repo(&self, key: &str) -> Result<(), ApiError> {
        match self {
            Caller::User { repos: None, .. } => Ok(()),
            Caller::User {
                repos: Some(set), ..
            }
            | Caller::Installation { repos: set, .. } => {
                if set.contains(key) {
                    Ok(())
                } else {
                    Err(ApiError::not_found())
                }
            }
            Caller::App { .. } => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "Resource not accessible by integration",
                DOC_REST,
            )),
        }
    }
}

/// The credential in `Authorization`, if any (`Bearer x` or `token x`, case-insensitive).
pub(crate) fn credential(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, rest) = value.split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token") {
        let token = rest.trim();
        (!token.is_empty()).then(|| token.to_owned())
    } else {
        None
    }
}

/// A JWT is three base64url parts; GitHub's tokens (`ghp_`, `ghs_`, …) never contain dots.
fn looks_like_jwt(token: &str) -> bool {
    token.split('.').count() == 3 && token.starts_with("eyJ")
}

/// Identifies the caller of one request.
pub(crate) fn authenticate(
    state: &SimState,
    headers: &HeaderMap,
    now: i64,
) -> Result<Caller, ApiError> {
    if headers.get(header::AUTHORIZATION).is_none() {
        return Err(ApiError::requires_authentication());
    }
    let Some(token) = credential(headers) else {
        return Err(ApiError::bad_credentials());
    };
    if looks_like_jwt(&token) {
        let app_id = crate::apps::verify_app_jwt(state, &token, now)?;
        return Ok(Caller::App { app_id });
    }
    let tokens = state.tokens();
    if let Some(t) = tokens.statics.get(&token) {
        return Ok(Caller::User {
            token: token.clone(),
            user_id: t.user_id,
            login: t.login.clone(),
            repos: t.repos.clone(),
        });
    }
    // An expired installation token is simply unknown to GitHub: "Bad credentials".
    if let Some(t) = tokens.issued.get(&token)
        && t.expires_at > now
    {
        return Ok(Caller::Installation {
            installation_id: t.installation_id,
            seq: t.seq,
            repos: t.repos.clone(),
            bot: t.bot.clone(),
        });
    }
    Err(ApiError::bad_credentials())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn reads_bearer_and_token_schemes() {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        assert_eq!(credential(&h).as_deref(), Some("abc"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("token xyz"));
        assert_eq!(credential(&h).as_deref(), Some("xyz"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic xyz"));
        assert_eq!(credential(&h), None);
    }
}
