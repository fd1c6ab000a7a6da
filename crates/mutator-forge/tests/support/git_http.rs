//! A git smart-HTTP server for tests and benchmarks: a small HTTP/1.1 server on loopback that
//! runs `git http-backend` (shipped with git) as a CGI program for each request.
//!
//! - Binds 127.0.0.1:0 and stops when dropped (open connections are shut down).
//! - Keep-alive, `Expect: 100-continue`, request bodies with `Content-Length` or chunked;
//!   bodies are streamed to the CGI program, responses streamed back chunked.
//! - Optional Basic authentication with one fixed user: a missing or wrong `Authorization`
//!   gets `401` with `WWW-Authenticate: Basic realm="git"`; a good one sets `REMOTE_USER`.
//! - Gzip request bodies (`Content-Encoding: gzip`, as the git CLI sends large ones) are passed
//!   through as `HTTP_CONTENT_ENCODING`, which `git http-backend` inflates itself.
//! - It records every request it served and how long serving took, and can run a test's
//!   closure just before it hands the next push (`POST …/git-receive-pack`) to git.

#![allow(dead_code)]

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// What the server does for every request.
struct Config {
    root: PathBuf,
    /// `Basic base64(user:password)` expected in `Authorization`, and the user.
    auth: Option<(String, String)>,
    /// Runs once, before the next push is handed to git.
    before_receive_pack: Mutex<Option<Box<dyn FnOnce() + Send>>>,
}

/// Counters a test can read.
#[derive(Default)]
struct Stats {
    requests: AtomicU64,
    unauthorized: AtomicU64,
    response_body_bytes: AtomicU64,
    request_body_bytes: AtomicU64,
    served: Mutex<Vec<Served>>,
}

/// One request that reached `git http-backend`.
#[derive(Debug, Clone)]
pub struct Served {
    pub method: String,
    /// The path without the query, e.g. `/gitops.git/git-receive-pack`.
    pub path: String,
    pub query: String,
    /// From the end of the request head to the last byte of the response: the server's side
    /// of the exchange (git's work plus receiving a body the client is still sending).
    pub took: Duration,
}

/// A running server; dropping it stops it.
pub struct GitHttpServer {
    addr: SocketAddr,
    config: Arc<Config>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
    connections: Arc<Mutex<Vec<TcpStream>>>,
    stats: Arc<Stats>,
}

impl GitHttpServer {
    /// Serves the repositories under `root` (`http://ADDR/<name>.git`), without authentication
    /// when `credentials` is `None`.
    pub fn start(root: &Path, credentials: Option<(&str, &str)>) -> io::Result<GitHttpServer> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let config = Arc::new(Config {
            root: root.to_path_buf(),
            auth: credentials.map(|(user, password)| {
                (
                    format!("Basic {}", STANDARD.encode(format!("{user}:{password}"))),
                    user.to_owned(),
                )
            }),
            before_receive_pack: Mutex::new(None),
        });
        let stop = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(Mutex::new(Vec::new()));
        let stats = Arc::new(Stats::default());
        let accept = {
            let (stop, connections, stats) = (stop.clone(), connections.clone(), stats.clone());
            let config = config.clone();
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    // Responses go out in several writes; Nagle would hold the last one back
                    // until the client's delayed ACK.
                    let _ = stream.set_nodelay(true);
                    if let (Ok(clone), Ok(mut open)) = (stream.try_clone(), connections.lock()) {
                        open.push(clone);
                    }
                    let (config, stats) = (config.clone(), stats.clone());
                    std::thread::spawn(move || {
                        // A client that hangs up mid-request is not the server's problem.
                        let _ = serve_connection(stream, &config, &stats);
                    });
                }
            })
        };
        Ok(GitHttpServer {
            addr,
            config,
            stop,
            accept: Some(accept),
            connections,
            stats,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR/<repo>`.
    pub fn url(&self, repo: &str) -> String {
        format!("http://{}/{repo}", self.addr)
    }

    /// The same with `user:password@` in it, for the git CLI.
    pub fn url_with_credentials(&self, repo: &str, user: &str, password: &str) -> String {
        format!("http://{user}:{password}@{}/{repo}", self.addr)
    }

    pub fn requests(&self) -> u64 {
        self.stats.requests.load(Ordering::SeqCst)
    }

    pub fn unauthorized(&self) -> u64 {
        self.stats.unauthorized.load(Ordering::SeqCst)
    }

    /// Bytes of response bodies sent so far (refs advertisements and packs).
    pub fn response_body_bytes(&self) -> u64 {
        self.stats.response_body_bytes.load(Ordering::SeqCst)
    }

    /// Bytes of request bodies received so far (after de-chunking; pushes carry packs).
    pub fn request_body_bytes(&self) -> u64 {
        self.stats.request_body_bytes.load(Ordering::SeqCst)
    }

    /// The requests served by git since the last call, oldest first.
    pub fn take_served(&self) -> Vec<Served> {
        self.stats
            .served
            .lock()
            .map(|mut served| std::mem::take(&mut *served))
            .unwrap_or_default()
    }

    /// Runs `work` once, just before the next `POST …/git-receive-pack` reaches git: lets a
    /// test move a branch between a client's ref discovery and its update.
    pub fn before_next_receive_pack(&self, work: impl FnOnce() + Send + 'static) {
        if let Ok(mut slot) = self.config.before_receive_pack.lock() {
            *slot = Some(Box::new(work));
        }
    }
}

impl Drop for GitHttpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
        if let Ok(mut open) = self.connections.lock() {
            for stream in open.drain(..) {
                let _ = stream.shutdown(Shutdown::Both);
            }
        }
    }
}

struct RequestHead {
    method: String,
    path: String,
    query: String,
    version: String,
    headers: Vec<(String, String)>,
}

impl RequestHead {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn serve_connection(stream: TcpStream, config: &Config, stats: &Stats) -> io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    while let Some(head) = read_head(&mut reader)? {
        stats.requests.fetch_add(1, Ordering::SeqCst);
        let keep_alive = head.version == "HTTP/1.1"
            && !head
                .header("connection")
                .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let framing = if head
            .header("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
        {
            Framing::Chunked {
                left: 0,
                done: false,
            }
        } else {
            let length = head
                .header("content-length")
                .map(|v| v.trim().parse::<u64>())
                .transpose()
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad Content-Length"))?;
            Framing::Length(length.unwrap_or(0))
        };
        let known_length = match framing {
            Framing::Length(n) if head.header("content-length").is_some() => Some(n),
            _ => None,
        };
        let mut body = Body {
            inner: &mut reader,
            framing,
        };
        let user = match &config.auth {
            None => None,
            Some((expected, user)) if head.header("authorization") == Some(expected.as_str()) => {
                Some(user.clone())
            }
            Some(_) => {
                stats.unauthorized.fetch_add(1, Ordering::SeqCst);
                io::copy(&mut body, &mut io::sink())?;
                write!(
                    writer,
                    "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"git\"\r\nContent-Length: 0\r\n{}\r\n",
                    if keep_alive {
                        ""
                    } else {
                        "Connection: close\r\n"
                    }
                )?;
                writer.flush()?;
                if keep_alive {
                    continue;
                }
                return Ok(());
            }
        };
        if head.method == "POST" && head.path.ends_with("/git-receive-pack") {
            let work = config
                .before_receive_pack
                .lock()
                .ok()
                .and_then(|mut slot| slot.take());
            if let Some(work) = work {
                work();
            }
        }
        let started = Instant::now();
        if head
            .header("expect")
            .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
        {
            writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
            writer.flush()?;
        }
        run_cgi(
            &head,
            user,
            known_length,
            body,
            &mut writer,
            keep_alive,
            config,
            stats,
        )?;
        if let Ok(mut served) = stats.served.lock() {
            served.push(Served {
                method: head.method.clone(),
                path: head.path.clone(),
                query: head.query.clone(),
                took: started.elapsed(),
            });
        }
        if !keep_alive {
            return Ok(());
        }
    }
    Ok(())
}

/// Reads a request line and headers; `None` at a clean end of the connection.
fn read_head(reader: &mut impl BufRead) -> io::Result<Option<RequestHead>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "bad request line",
        ));
    };
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut head = RequestHead {
        method: method.to_owned(),
        path: path.to_owned(),
        query: query.to_owned(),
        version: version.to_owned(),
        headers: Vec::new(),
    };
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            return Ok(Some(head));
        }
        if let Some((name, value)) = line.split_once(':') {
            head.headers
                .push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
}

enum Framing {
    Length(u64),
    Chunked { left: u64, done: bool },
}

/// The request body, de-chunked.
struct Body<'a, R> {
    inner: &'a mut R,
    framing: Framing,
}

impl<R: BufRead> Read for Body<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &mut self.framing {
            Framing::Length(left) => {
                if *left == 0 || buf.is_empty() {
                    return Ok(0);
                }
                let max = buf.len().min(usize::try_from(*left).unwrap_or(usize::MAX));
                let n = self.inner.read(&mut buf[..max])?;
                if n == 0 {
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
                *left -= n as u64;
                Ok(n)
            }
            Framing::Chunked { left, done } => {
                if *done || buf.is_empty() {
                    return Ok(0);
                }
                if *left == 0 {
                    let mut size = String::new();
                    self.inner.read_line(&mut size)?;
                    let size = size.trim_end_matches(['\r', '\n']);
                    let size = size.split(';').next().unwrap_or("").trim();
                    let size = u64::from_str_radix(size, 16)
                        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad chunk"))?;
                    if size == 0 {
                        // Trailers, then the empty line.
                        loop {
                            let mut line = String::new();
                            if self.inner.read_line(&mut line)? == 0
                                || line.trim_end_matches(['\r', '\n']).is_empty()
                            {
                                break;
                            }
                        }
                        *done = true;
                        return Ok(0);
                    }
                    *left = size;
                }
                let max = buf.len().min(usize::try_from(*left).unwrap_or(usize::MAX));
                let n = self.inner.read(&mut buf[..max])?;
                if n == 0 {
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
                *left -= n as u64;
                if *left == 0 {
                    let mut crlf = String::new();
                    self.inner.read_line(&mut crlf)?;
                }
                Ok(n)
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn run_cgi<R: BufRead + Send>(
    head: &RequestHead,
    user: Option<String>,
    content_length: Option<u64>,
    mut body: Body<'_, R>,
    writer: &mut TcpStream,
    keep_alive: bool,
    config: &Config,
    stats: &Stats,
) -> io::Result<()> {
    let mut command = Command::new("git");
    command
        .arg("http-backend")
        .env_remove("GIT_DIR")
        .env("GIT_PROJECT_ROOT", &config.root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("GATEWAY_INTERFACE", "CGI/1.1")
        .env("SERVER_PROTOCOL", "HTTP/1.1")
        .env("REQUEST_METHOD", &head.method)
        .env("PATH_INFO", &head.path)
        .env("QUERY_STRING", &head.query)
        .env("REMOTE_ADDR", "127.0.0.1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(content_type) = head.header("content-type") {
        command.env("CONTENT_TYPE", content_type);
    }
    if let Some(length) = content_length {
        command.env("CONTENT_LENGTH", length.to_string());
    }
    if let Some(encoding) = head.header("content-encoding") {
        command.env("HTTP_CONTENT_ENCODING", encoding);
    }
    if let Some(protocol) = head.header("git-protocol") {
        command.env("GIT_PROTOCOL", protocol);
    }
    if let Some(user) = user {
        command.env("REMOTE_USER", user);
    }
    let mut child = command.spawn()?;
    let mut stdin = child.stdin.take();
    let stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    std::thread::scope(|scope| {
        let feeder = scope.spawn(move || {
            // Without a body the CGI sees end of input at once.
            let result = match stdin.as_mut() {
                Some(stdin) => io::copy(&mut body, stdin).map(|n| {
                    stats.request_body_bytes.fetch_add(n, Ordering::SeqCst);
                }),
                None => Ok(()),
            };
            drop(stdin);
            // Whatever the CGI did not read must still leave the connection.
            let rest = io::copy(&mut body, &mut io::sink()).map(drop);
            result.and(rest)
        });
        let errors = scope.spawn(move || {
            let mut text = String::new();
            if let Some(stderr) = stderr.as_mut() {
                let _ = stderr.read_to_string(&mut text);
            }
            text
        });
        let Some(stdout) = stdout else {
            return Err(io::Error::other("no stdout"));
        };
        let sent = relay_response(BufReader::new(stdout), writer, keep_alive, stats);
        let fed = feeder
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("feeder panicked")));
        let status = child.wait()?;
        let errors = errors.join().unwrap_or_default();
        if !status.success() && !errors.is_empty() {
            eprintln!("git http-backend {} {}: {errors}", head.method, head.path);
        }
        sent?;
        fed.or_else(|e| {
            // A broken pipe means the CGI stopped reading early; the response is what counts.
            if e.kind() == io::ErrorKind::BrokenPipe {
                Ok(())
            } else {
                Err(e)
            }
        })
    })
}

/// Turns the CGI output into an HTTP response. Body bytes are counted before they are sent,
/// so a client that has the whole response sees them counted.
fn relay_response(
    mut cgi: impl BufRead,
    writer: &mut TcpStream,
    keep_alive: bool,
    stats: &Stats,
) -> io::Result<()> {
    let mut status = "200 OK".to_owned();
    let mut headers = String::new();
    loop {
        let mut line = String::new();
        if cgi.read_line(&mut line)? == 0 {
            break;
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            break;
        }
        match line.split_once(':') {
            Some((name, value)) if name.eq_ignore_ascii_case("status") => {
                status = value.trim().to_owned();
            }
            Some(_) => {
                headers.push_str(line);
                headers.push_str("\r\n");
            }
            None => {}
        }
    }
    let mut out = io::BufWriter::new(writer);
    write!(
        out,
        "HTTP/1.1 {status}\r\n{headers}Transfer-Encoding: chunked\r\n{}\r\n",
        if keep_alive {
            ""
        } else {
            "Connection: close\r\n"
        }
    )?;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = cgi.read(&mut buf)?;
        if n == 0 {
            break;
        }
        stats
            .response_body_bytes
            .fetch_add(n as u64, Ordering::SeqCst);
        write!(out, "{n:x}\r\n")?;
        out.write_all(&buf[..n])?;
        out.write_all(b"\r\n")?;
        // Flush each chunk: git streams progress and packs and waits on them.
        out.flush()?;
    }
    out.write_all(b"0\r\n\r\n")?;
    out.flush()
}
