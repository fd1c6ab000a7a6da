//! Moving a remote branch by compare-and-swap with an ordinary, non-forced libgit2 push:
//! commits to `ssh://` and `file://` remotes, and new branches on any remote (libgit2 works
//! out which of the commit's objects the remote lacks). Commits to `http(s)://` remotes go
//! through [`smart_http`](super::smart_http), which follows the same three checks.
//!
//! Three checks make a push a compare-and-swap on the head that was read:
//! 1. before anything is sent, the head the remote advertises must be the expected one
//!    (libgit2's push-negotiation callback; otherwise nothing is uploaded);
//! 2. the update command names that head as the old value, and `git receive-pack` refuses
//!    the update if the ref no longer has it when it takes the ref lock;
//! 3. the push is not forced, so the remote's fast-forward check holds as well.
//!
//! A review branch that is started afresh ([`crate::Forge::reset_branch`]) is the one forced
//! push: checks 1 and 2 still hold (a lease on the head that was read), only the third is off.
//!
//! A refusal is told apart by state, not by the server's wording: after one, the branch is
//! listed again; if it moved, the caller re-reads and re-applies (a conflict), otherwise the
//! remote refused the change itself (a hook, a protected branch).

use std::time::Instant;

use git2::{Direction, ErrorClass, ErrorCode, Oid, PushOptions, Repository};

use super::Shared;
use super::mirror::REMOTE;
use super::transport::{OpState, callbacks, classify};
use crate::error::ForgeError;

/// How a push ended, when the remote could be talked to.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// The branch now points at the pushed commit.
    Pushed,
    /// The branch is not where the caller read it: `Some(now)` (`Some(None)`: it is gone),
    /// or `None` when its current head is not known.
    Moved(Option<Option<Oid>>),
    /// The remote refused the update while the branch stayed where it was.
    Refused(String),
}

/// Whether a push may move a branch to a commit that does not contain its head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    FastForward,
    /// Still only from the expected head: a lease, never a blind overwrite.
    Forced,
}

/// Pushes `new` to `refs/heads/<branch>` if the remote's head is `expected` (`None`: the
/// branch must not exist yet).
pub(crate) fn push(
    repo: &Repository,
    shared: &Shared,
    branch: &str,
    new: Oid,
    expected: Option<Oid>,
    mode: Mode,
    deadline: Instant,
) -> Result<Outcome, ForgeError> {
    let refname = format!("refs/heads/{branch}");
    let state = OpState::default();
    let mut cb = callbacks(shared, &state, deadline);
    let want = expected.unwrap_or(Oid::ZERO_SHA1);
    cb.push_negotiation(|updates| {
        for update in updates {
            if update.dst_refname_bytes() != refname.as_bytes() {
                continue;
            }
            let old = update.src();
            state
                .remote_old
                .set(Some(if old.is_zero() { None } else { Some(old) }));
            if old != want {
                state.moved.set(true);
                return Err(git2::Error::new(
                    ErrorCode::NotFastForward,
                    ErrorClass::Reference,
                    "the branch moved since it was read",
                ));
            }
        }
        if !state.within(deadline) {
            return Err(git2::Error::new(
                ErrorCode::User,
                ErrorClass::Callback,
                "deadline passed",
            ));
        }
        Ok(())
    });
    cb.push_update_reference(|name, status| {
        if let Some(status) = status {
            state.refused.replace(Some(format!("{name}: {status}")));
        }
        Ok(())
    });
    let mut options = PushOptions::new();
    options.remote_callbacks(cb);
    let mut remote = repo.find_remote(REMOTE).map_err(|e| shared.local(e))?;
    let spec = match mode {
        Mode::FastForward => format!("{new}:{refname}"),
        Mode::Forced => format!("+{new}:{refname}"),
    };
    let result = remote.push(&[spec.as_str()], Some(&mut options));
    drop(options);
    match result {
        Err(_) if state.moved.get() => Ok(Outcome::Moved(state.remote_old.get())),
        // libgit2's own fast-forward check, when the advertised head is unknown here.
        Err(e) if e.code() == ErrorCode::NotFastForward => {
            Ok(Outcome::Moved(state.remote_old.get()))
        }
        Err(e) => Err(classify(&e, &state, shared)),
        Ok(()) => match state.refused.take() {
            None => Ok(Outcome::Pushed),
            Some(status) => after_refusal(repo, shared, &refname, expected, status, deadline),
        },
    }
}

/// The remote refused the update: did the branch move (a lost race) or not?
fn after_refusal(
    repo: &Repository,
    shared: &Shared,
    refname: &str,
    expected: Option<Oid>,
    status: String,
    deadline: Instant,
) -> Result<Outcome, ForgeError> {
    let status = super::transport::scrub(&status, &shared.auth);
    let Ok(now) = remote_head(repo, shared, refname, deadline) else {
        // Cannot tell: treat it as the race it usually is; the caller re-reads.
        return Ok(Outcome::Moved(None));
    };
    if now != expected {
        return Ok(Outcome::Moved(Some(now)));
    }
    if status.contains("lock") {
        // Another update held the ref lock at that moment and has since gone away.
        return Err(ForgeError::Transient(format!(
            "{} refused the update for now: {status}",
            shared.url.redacted
        )));
    }
    Ok(Outcome::Refused(format!(
        "{} refused the push: {status}",
        shared.url.redacted
    )))
}

/// The head of `refname` as the remote advertises it now (one round trip, no objects).
fn remote_head(
    repo: &Repository,
    shared: &Shared,
    refname: &str,
    deadline: Instant,
) -> Result<Option<Oid>, ForgeError> {
    let state = OpState::default();
    let mut remote = repo.find_remote(REMOTE).map_err(|e| shared.local(e))?;
    let connection = remote
        .connect_auth(
            Direction::Fetch,
            Some(callbacks(shared, &state, deadline)),
            None,
        )
        .map_err(|e| classify(&e, &state, shared))?;
    let heads = connection
        .list()
        .map_err(|e| classify(&e, &state, shared))?;
    Ok(heads
        .iter()
        .find(|head| head.name() == refname)
        .map(|head| head.oid()))
}
