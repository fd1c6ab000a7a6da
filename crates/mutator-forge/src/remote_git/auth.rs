//! Answers libgit2's requests for credentials and checks ssh host keys.

use std::path::Path;

use git2::cert::Cert;
use git2::{CertificateCheckStatus, Cred, CredentialType, ErrorClass, ErrorCode};
use secrecy::ExposeSecret;

use super::known_hosts::{KnownHosts, Verdict};
use super::settings::{RemoteAuth, RemoteUrl};
use super::transport::OpState;

/// libgit2 asks again after the server refused what we gave; we answer once per operation,
/// so a wrong password ends in an error instead of a loop.
pub(crate) fn credentials(
    auth: &RemoteAuth,
    url: &RemoteUrl,
    state: &OpState,
    username_from_url: Option<&str>,
    allowed: CredentialType,
) -> Result<Cred, git2::Error> {
    match auth {
        RemoteAuth::None => {
            state.auth_refused.set(true);
            Err(auth_error(
                ErrorClass::Http,
                "the remote asks for credentials, but none are configured",
            ))
        }
        RemoteAuth::Basic { username, password } => {
            if !allowed.contains(CredentialType::USER_PASS_PLAINTEXT) {
                state.auth_refused.set(true);
                return Err(auth_error(
                    ErrorClass::Http,
                    "the remote asks for a kind of credentials other than a user and password",
                ));
            }
            if state.auth_attempts.replace(state.auth_attempts.get() + 1) > 0 {
                state.auth_refused.set(true);
                return Err(auth_error(
                    ErrorClass::Http,
                    "the remote refused the configured user and password",
                ));
            }
            Cred::userpass_plaintext(username.expose_secret(), password.expose_secret())
        }
        RemoteAuth::Ssh { key_file, .. } => {
            let user = username_from_url
                .or(url.username.as_deref())
                .unwrap_or("git");
            if allowed.contains(CredentialType::USERNAME)
                && !allowed.contains(CredentialType::SSH_KEY)
            {
                return Cred::username(user);
            }
            if !allowed.contains(CredentialType::SSH_KEY) {
                state.auth_refused.set(true);
                return Err(auth_error(
                    ErrorClass::Ssh,
                    "the ssh server does not accept public-key authentication",
                ));
            }
            if state.auth_attempts.replace(state.auth_attempts.get() + 1) > 0 {
                state.auth_refused.set(true);
                return Err(auth_error(
                    ErrorClass::Ssh,
                    "the ssh server refused the configured key",
                ));
            }
            Cred::ssh_key(user, None, key_file, None)
        }
    }
}

fn auth_error(class: ErrorClass, message: &str) -> git2::Error {
    git2::Error::new(ErrorCode::Auth, class, message)
}

/// TLS certificates are left to libgit2 (and OpenSSL's trust store); ssh host keys must be
/// listed in the configured known_hosts file.
pub(crate) fn certificate_check(
    auth: &RemoteAuth,
    url: &RemoteUrl,
    state: &OpState,
    cert: &Cert<'_>,
    host: &str,
) -> Result<CertificateCheckStatus, git2::Error> {
    let Some(hostkey) = cert.as_hostkey() else {
        return Ok(CertificateCheckStatus::CertificatePassthrough);
    };
    let refuse = |why: String| {
        let err = git2::Error::new(ErrorCode::Certificate, ErrorClass::Ssh, why.as_str());
        state.host_key_problem.replace(Some(why));
        Err(err)
    };
    let RemoteAuth::Ssh {
        known_hosts_file, ..
    } = auth
    else {
        return refuse(format!(
            "ssh host {host} cannot be verified: no known_hosts file is configured"
        ));
    };
    let Some(key) = hostkey.hostkey() else {
        return refuse(format!(
            "ssh host {host} did not present a key that can be compared with {}",
            known_hosts_file.display()
        ));
    };
    let known = match read_known_hosts(known_hosts_file) {
        Ok(known) => known,
        Err(why) => return refuse(why),
    };
    let port = url.port.unwrap_or(22);
    match known.check(host, port, key) {
        Verdict::Known => Ok(CertificateCheckStatus::CertificateOk),
        Verdict::Changed => refuse(format!(
            "the host key of ssh host {host} differs from the one in {}: it was changed or \
             someone is in between; refusing to connect",
            known_hosts_file.display()
        )),
        Verdict::Unknown => refuse(format!(
            "ssh host {host} (port {port}) is not in {}; add its key (for example with \
             ssh-keyscan) after checking it",
            known_hosts_file.display()
        )),
        Verdict::Revoked => refuse(format!(
            "ssh host {host} presented a key marked @revoked in {}",
            known_hosts_file.display()
        )),
    }
}

fn read_known_hosts(path: &Path) -> Result<KnownHosts, String> {
    std::fs::read_to_string(path)
        .map(|text| KnownHosts::parse(&text))
        .map_err(|e| format!("cannot read known_hosts file {}: {e}", path.display()))
}
