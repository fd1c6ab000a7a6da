//! The answer to `POST git-receive-pack`: the report-status (`gitprotocol-pack`, "Report
//! Status"), multiplexed with side-band-64k when it was asked for: band 1 carries the
//! report, band 2 what the server and its hooks print, band 3 a fatal error.

use super::pkt_line::{self, Pkt, PktError, Reader};

/// A response that is not a report-status stream.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ReportError {
    #[error(transparent)]
    Pkt(#[from] PktError),
    #[error("unknown side band {0}")]
    Band(u8),
    #[error("the report line {0:?} is malformed")]
    BadLine(String),
}

/// What the server did with the update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Report {
    /// `unpack ok`, or why the pack could not be stored.
    pub unpack: Result<(), String>,
    /// The outcome for each ref named in the request.
    pub refs: Vec<(String, RefStatus)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RefStatus {
    Updated,
    /// `ng <ref> <reason>`.
    Refused(String),
}

/// The whole response.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Response {
    /// `None` when the response ended before a complete report.
    pub report: Option<Report>,
    /// Lines the server printed (band 2): hook output, refusal explanations.
    pub messages: Vec<String>,
    /// A fatal error the server sent instead of finishing (band 3).
    pub fatal: Option<String>,
}

/// Parses a response; `sideband` says whether side-band-64k was requested.
pub(crate) fn parse(body: &[u8], sideband: bool) -> Result<Response, ReportError> {
    if !sideband {
        return Ok(Response {
            report: report(body)?,
            ..Response::default()
        });
    }
    let mut band1 = Vec::new();
    let mut band2 = Vec::new();
    let mut band3 = Vec::new();
    let mut reader = Reader::new(body);
    while let Some(pkt) = reader.next_pkt()? {
        let Pkt::Data(data) = pkt else { break };
        let Some((&band, payload)) = data.split_first() else {
            continue;
        };
        match band {
            1 => band1.extend_from_slice(payload),
            2 => band2.extend_from_slice(payload),
            3 => band3.extend_from_slice(payload),
            other => return Err(ReportError::Band(other)),
        }
    }
    let fatal = (!band3.is_empty()).then(|| lines(&band3).join("; "));
    Ok(Response {
        // A report cut short by a fatal error is not a report.
        report: report(&band1)?,
        messages: lines(&band2),
        fatal,
    })
}

/// The report-status itself; `None` when it is incomplete.
fn report(bytes: &[u8]) -> Result<Option<Report>, ReportError> {
    let mut reader = Reader::new(bytes);
    let mut unpack = None;
    let mut refs = Vec::new();
    loop {
        let line = match reader.next_pkt()? {
            None => return Ok(None),
            Some(Pkt::Flush) => break,
            Some(Pkt::Data(line)) => pkt_line::text_line(line),
        };
        let text = String::from_utf8_lossy(line);
        let bad = || ReportError::BadLine(text.clone().into_owned());
        if let Some(result) = text.strip_prefix("unpack ") {
            unpack = Some(if result == "ok" {
                Ok(())
            } else {
                Err(result.to_owned())
            });
        } else if let Some(name) = text.strip_prefix("ok ") {
            refs.push((name.to_owned(), RefStatus::Updated));
        } else if let Some(rest) = text.strip_prefix("ng ") {
            let (name, reason) = rest.split_once(' ').ok_or_else(bad)?;
            refs.push((name.to_owned(), RefStatus::Refused(reason.to_owned())));
        } else if !text.starts_with("option ") {
            // `option` lines belong to report-status-v2, which is not asked for but harmless.
            return Err(bad());
        }
    }
    match unpack {
        Some(unpack) => Ok(Some(Report { unpack, refs })),
        None => Ok(None),
    }
}

/// Text split into non-empty lines; progress output separates updates with `\r`.
fn lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .split(['\n', '\r'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkts(lines: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for line in lines {
            if line.is_empty() {
                pkt_line::flush(&mut out);
            } else {
                pkt_line::write(&mut out, line).unwrap();
            }
        }
        out
    }

    /// `inner` split over band-1 packets of at most `size` bytes, as a server may do.
    fn banded(inner: &[u8], size: usize, band2: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for text in band2 {
            pkt_line::write(&mut out, &[&[2u8][..], text].concat()).unwrap();
        }
        for chunk in inner.chunks(size) {
            pkt_line::write(&mut out, &[&[1u8][..], chunk].concat()).unwrap();
        }
        pkt_line::flush(&mut out);
        out
    }

    #[test]
    fn plain_report() {
        let body = pkts(&[b"unpack ok\n", b"ok refs/heads/main\n", b""]);
        let response = parse(&body, false).unwrap();
        assert_eq!(
            response.report,
            Some(Report {
                unpack: Ok(()),
                refs: vec![("refs/heads/main".into(), RefStatus::Updated)],
            })
        );
    }

    #[test]
    fn side_band_report_split_across_packets_with_messages() {
        let inner = pkts(&[
            b"unpack ok\n",
            b"ng refs/heads/main pre-receive hook declined\n",
            b"",
        ]);
        let body = banded(&inner, 7, &[b"main is pro", b"tected\nsecond line\r\n"]);
        let response = parse(&body, true).unwrap();
        assert_eq!(
            response.report,
            Some(Report {
                unpack: Ok(()),
                refs: vec![(
                    "refs/heads/main".into(),
                    RefStatus::Refused("pre-receive hook declined".into())
                )],
            })
        );
        assert_eq!(response.messages, vec!["main is protected", "second line"]);
        assert_eq!(response.fatal, None);
    }

    #[test]
    fn unpack_failure_fatal_error_and_truncation() {
        let body = pkts(&[
            b"unpack index-pack abnormal exit\n",
            b"ng refs/heads/main unpacker error\n",
            b"",
        ]);
        let report = parse(&body, false).unwrap().report.unwrap();
        assert_eq!(report.unpack, Err("index-pack abnormal exit".into()));

        let mut body = Vec::new();
        pkt_line::write(&mut body, b"\x03fatal: out of memory\n").unwrap();
        let response = parse(&body, true).unwrap();
        assert_eq!(response.fatal.as_deref(), Some("fatal: out of memory"));
        assert_eq!(response.report, None);

        let cut = pkts(&[b"unpack ok\n"]);
        assert_eq!(parse(&cut, false).unwrap().report, None);
    }

    #[test]
    fn refuses_garbage() {
        let body = pkts(&[b"unpack ok\n", b"maybe refs/heads/main\n", b""]);
        assert!(matches!(parse(&body, false), Err(ReportError::BadLine(_))));
        let mut body = Vec::new();
        pkt_line::write(&mut body, b"\x07what").unwrap();
        assert_eq!(parse(&body, true), Err(ReportError::Band(7)));
    }
}
