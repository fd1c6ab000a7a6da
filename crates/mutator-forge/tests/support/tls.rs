//! TLS for tests: a throw-away certificate authority and a server certificate for 127.0.0.1,
//! made with the `openssl` command, and a loopback listener that decrypts each connection and
//! forwards it to a plain HTTP server (the smart-HTTP bridge of `git_http.rs`).

#![allow(dead_code, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::thread::JoinHandle;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The files of a test certificate authority and its server certificate.
pub struct Certificates {
    /// The authority, PEM: what a client is told to trust (`SSL_CERT_FILE`).
    pub ca_pem: PathBuf,
    cert_der: Vec<u8>,
    key_der: Vec<u8>,
}

/// Runs `openssl` with `args` (split at spaces) in `dir`.
fn openssl(dir: &Path, args: &str) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args.split_whitespace())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl {args}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A new authority and a certificate for `127.0.0.1` signed by it, in `dir`.
pub fn certificates(dir: &Path) -> Certificates {
    std::fs::create_dir_all(dir).unwrap();
    let key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    openssl(
        dir,
        &format!(
            "req -x509 {key} -keyout ca.key -out ca.pem -days 2 -subj /CN=gitops-mutator-test-CA \
             -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign"
        ),
    );
    openssl(
        dir,
        &format!("req {key} -keyout server.key -out server.csr -subj /CN=127.0.0.1"),
    );
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n\
         keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        "x509 -req -in server.csr -CA ca.pem -CAkey ca.key -set_serial 2 -days 2 \
         -extfile server.ext -outform DER -out server.der",
    );
    openssl(
        dir,
        "pkcs8 -topk8 -nocrypt -in server.key -outform DER -out server.key.der",
    );
    Certificates {
        ca_pem: dir.join("ca.pem"),
        cert_der: std::fs::read(dir.join("server.der")).unwrap(),
        key_der: std::fs::read(dir.join("server.key.der")).unwrap(),
    }
}

/// `https://127.0.0.1:PORT/…` in front of a plain HTTP server; stops when dropped.
pub struct TlsProxy {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl TlsProxy {
    pub fn start(certificates: &Certificates, upstream: SocketAddr) -> TlsProxy {
        let key = PrivateKeyDer::try_from(certificates.key_der.clone()).unwrap();
        let config = ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(certificates.cert_der.clone())],
                key,
            )
            .unwrap();
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, mut stopped) = oneshot::channel();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = TcpListener::from_std(listener).unwrap();
                loop {
                    let (client, _) = tokio::select! {
                        _ = &mut stopped => return,
                        accepted = listener.accept() => match accepted {
                            Ok(accepted) => accepted,
                            Err(_) => continue,
                        },
                    };
                    let acceptor = acceptor.clone();
                    tokio::spawn(async move {
                        // A client that gives up mid-handshake is not the proxy's problem.
                        let Ok(mut tls) = acceptor.accept(client).await else {
                            return;
                        };
                        let Ok(mut plain) = TcpStream::connect(upstream).await else {
                            return;
                        };
                        let _ = plain.set_nodelay(true);
                        let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                    });
                }
            });
        });
        TlsProxy {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    pub fn url(&self, repo: &str) -> String {
        format!("https://{}/{repo}", self.addr)
    }
}

impl Drop for TlsProxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
