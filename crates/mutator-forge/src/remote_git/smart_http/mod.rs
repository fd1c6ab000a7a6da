//! Pushing one commit over git's smart-HTTP protocol without libgit2's push.
//!
//! libgit2's push works out what to send by walking: it marks every tree and blob of the
//! parent commit as already on the remote before packing the new objects, which reads the
//! whole parent tree, and it sends the request body chunked without `TCP_NODELAY`. Both cost
//! time that grows with the repository or waits on a delayed ACK. Here the objects to send
//! are known exactly (the commit, the trees on the changed paths, the new blobs: see
//! [`pack`](super::pack)), so a push is two HTTP requests:
//! 1. `GET info/refs?service=git-receive-pack`: the remote's head of the branch and its
//!    capabilities. If the head is not the expected parent, nothing is sent (a conflict).
//! 2. `POST git-receive-pack`: one command `<old> <new> refs/heads/<branch>` and the pack.
//!    `git receive-pack` takes the ref lock and updates only if the ref still has `<old>`,
//!    and the push is not forced, so this is a compare-and-swap on the server.
//!
//! A refusal is told apart by state, as for libgit2 pushes (see [`push`](super::push)):
//! the branch is discovered again; if it moved, the caller re-reads and re-applies, otherwise
//! the server refused the change itself and says why (the report's reason and what the
//! hooks printed on side band 2).
//!
//! Protocol references: git's `gitprotocol-http`, `gitprotocol-pack` ("Pushing Data To a
//! Server", "Report Status") and `gitprotocol-capabilities`.

mod advertisement;
mod client;
mod pkt_line;
mod report;

use std::time::Instant;

use git2::Oid;

pub(crate) use client::{Discovery, Remote};

use super::Shared;
use super::push::Outcome;
use super::transport::scrub;
use crate::error::ForgeError;
use advertisement::Advertisement;
use report::{RefStatus, Response};

/// At most this much of what the server printed goes into an error message.
const MESSAGE_LINES: usize = 12;

/// One branch update.
pub(crate) struct Update<'a> {
    pub branch: &'a str,
    /// The head the branch must still have (`None`: it must not exist yet).
    pub expected: Option<Oid>,
    pub new: Oid,
    /// Every object `new` has and `expected` lacks.
    pub pack: &'a [u8],
}

/// Pushes `update`. `found` is the ref discovery made for this push (the caller runs it
/// while the commit is being written).
pub(crate) async fn push(
    shared: &Shared,
    remote: &Remote,
    found: Discovery,
    update: Update<'_>,
    deadline: Instant,
) -> Result<Outcome, ForgeError> {
    let Update {
        branch,
        expected,
        new,
        pack,
    } = update;
    let refname = format!("refs/heads/{branch}");
    let now = found.advertisement.head(&refname);
    if now != expected {
        return Ok(Outcome::Moved(Some(now)));
    }
    if !found.advertisement.offers("report-status") {
        return Err(ForgeError::Rejected(format!(
            "{}: the server does not offer report-status, so the outcome of a push could not \
             be known",
            shared.url.redacted
        )));
    }
    let sideband = found.advertisement.offers("side-band-64k");
    let body =
        update_request(&found.advertisement, &refname, expected, new, pack).map_err(|e| {
            ForgeError::Rejected(format!(
                "cannot push {refname} to {}: {e}",
                shared.url.redacted
            ))
        })?;
    let answer = remote
        .receive_pack(shared, &found.service_url, body, deadline)
        .await?;
    let response = report::parse(&answer, sideband).map_err(|e| {
        ForgeError::Transient(format!(
            "{}: the answer to the push is not git's protocol: {e}",
            shared.url.redacted
        ))
    })?;
    outcome(shared, remote, &refname, expected, response, deadline).await
}

/// The command list (one update, with the capabilities we use) followed by the pack.
fn update_request(
    advertisement: &Advertisement,
    refname: &str,
    old: Option<Oid>,
    new: Oid,
    pack: &[u8],
) -> Result<Vec<u8>, pkt_line::PktError> {
    let mut capabilities = vec!["report-status".to_owned()];
    if advertisement.offers("side-band-64k") {
        // Hook output then reaches us on band 2 and can be quoted in a refusal.
        capabilities.push("side-band-64k".to_owned());
    }
    if advertisement.offers("quiet") {
        // Nobody reads progress meters here.
        capabilities.push("quiet".to_owned());
    }
    if advertisement.offers("object-format") {
        capabilities.push("object-format=sha1".to_owned());
    }
    if advertisement.offers("agent") {
        capabilities.push(concat!("agent=gitops-mutator/", env!("CARGO_PKG_VERSION")).to_owned());
    }
    let old = old.unwrap_or(Oid::ZERO_SHA1);
    let command = format!("{old} {new} {refname}\0{}", capabilities.join(" "));
    let mut body = Vec::with_capacity(command.len() + 8 + pack.len());
    pkt_line::write(&mut body, command.as_bytes())?;
    pkt_line::flush(&mut body);
    body.extend_from_slice(pack);
    Ok(body)
}

/// Reads the report for `refname`.
async fn outcome(
    shared: &Shared,
    remote: &Remote,
    refname: &str,
    expected: Option<Oid>,
    response: Response,
    deadline: Instant,
) -> Result<Outcome, ForgeError> {
    let url = &shared.url.redacted;
    let said = remote_said(&response.messages, shared);
    if let Some(fatal) = &response.fatal {
        return Err(ForgeError::Transient(format!(
            "{url} failed during the push: {}{said}",
            scrub(fatal, &shared.auth)
        )));
    }
    let Some(report) = response.report else {
        return Err(ForgeError::Transient(format!(
            "{url} ended the push without reporting its outcome{said}"
        )));
    };
    if let Err(why) = &report.unpack {
        return Err(ForgeError::Rejected(format!(
            "{url} could not store the pushed objects: {}{said}",
            scrub(why, &shared.auth)
        )));
    }
    match report.refs.iter().find(|(name, _)| name == refname) {
        Some((_, RefStatus::Updated)) => Ok(Outcome::Pushed),
        Some((_, RefStatus::Refused(reason))) => {
            let status = format!("{refname} {}{said}", scrub(reason, &shared.auth));
            after_refusal(shared, remote, refname, expected, status, deadline).await
        }
        None => Err(ForgeError::Transient(format!(
            "{url} reported nothing about {refname}{said}"
        ))),
    }
}

/// The server refused the update: did the branch move (a lost race) or not?
async fn after_refusal(
    shared: &Shared,
    remote: &Remote,
    refname: &str,
    expected: Option<Oid>,
    status: String,
    deadline: Instant,
) -> Result<Outcome, ForgeError> {
    let Ok(found) = remote.discover(shared, deadline).await else {
        // Cannot tell: treat it as the race it usually is; the caller re-reads.
        return Ok(Outcome::Moved(None));
    };
    let now = found.advertisement.head(refname);
    if now != expected {
        return Ok(Outcome::Moved(Some(now)));
    }
    // `git receive-pack` answers "failed to update ref" when the ref lock was held by
    // another update at that moment; the ref has not moved, so trying again may work.
    if status.contains("lock") || status.contains("failed to update ref") {
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

/// ` (remote: line; line)` from what the server printed, or nothing.
fn remote_said(messages: &[String], shared: &Shared) -> String {
    if messages.is_empty() {
        return String::new();
    }
    let mut lines: Vec<String> = messages
        .iter()
        .take(MESSAGE_LINES)
        .map(|line| scrub(line, &shared.auth))
        .collect();
    if messages.len() > MESSAGE_LINES {
        lines.push(format!("… {} more lines", messages.len() - MESSAGE_LINES));
    }
    format!(" (remote: {})", lines.join("; "))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn advertised(capabilities: &str) -> Advertisement {
        let mut body = Vec::new();
        pkt_line::write(&mut body, b"# service=git-receive-pack\n").unwrap();
        pkt_line::flush(&mut body);
        let line = format!("{} capabilities^{{}}\0{capabilities}\n", "0".repeat(40));
        pkt_line::write(&mut body, line.as_bytes()).unwrap();
        pkt_line::flush(&mut body);
        advertisement::parse(&body).unwrap()
    }

    #[test]
    fn the_update_asks_only_for_offered_capabilities() {
        let new = Oid::from_str("7d1665144a3a975c05f1f43902ddaf084e784dbe").unwrap();
        let old = Oid::from_str("74730d410fcb6603ace96f1dc55ea6196122532d").unwrap();
        let full = advertised(
            "report-status side-band-64k quiet atomic object-format=sha1 agent=git/2.47.3",
        );
        let body = update_request(&full, "refs/heads/main", Some(old), new, b"PACK-").unwrap();
        let command = format!(
            "{old} {new} refs/heads/main\0report-status side-band-64k quiet object-format=sha1 agent=gitops-mutator/{}",
            env!("CARGO_PKG_VERSION")
        );
        let mut expected = format!("{:04x}{command}0000", command.len() + 4).into_bytes();
        expected.extend_from_slice(b"PACK-");
        assert_eq!(body, expected);

        // A new branch names the zero id as its old value; a plain server gets plain asks.
        let plain = advertised("report-status");
        let body = update_request(&plain, "refs/heads/new", None, new, b"").unwrap();
        let text = String::from_utf8(body).unwrap();
        assert!(
            text.ends_with(&format!(
                "{} {new} refs/heads/new\0report-status0000",
                "0".repeat(40)
            )),
            "{text}"
        );
    }
}
