//! pkt-line framing (git's `gitprotocol-common`): four hex digits giving the length of the
//! line including those four digits, then the payload; `0000` is a flush. Protocol v0/v1,
//! which is what `git-receive-pack` speaks over HTTP, knows no other special packets.

/// The longest pkt-line, length digits included.
const MAX_PKT: usize = 65520;

/// A pkt-line stream that is not well formed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PktError {
    #[error("the response ends inside a pkt-line")]
    Truncated,
    #[error("{0:?} is not a pkt-line length")]
    BadLength(String),
    #[error("a pkt-line of {0} bytes is longer than the protocol allows")]
    TooLong(usize),
}

/// One packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pkt<'a> {
    Flush,
    Data(&'a [u8]),
}

/// Appends `payload` as one pkt-line.
pub(crate) fn write(out: &mut Vec<u8>, payload: &[u8]) -> Result<(), PktError> {
    let len = payload.len() + 4;
    if len > MAX_PKT {
        return Err(PktError::TooLong(len));
    }
    out.extend_from_slice(format!("{len:04x}").as_bytes());
    out.extend_from_slice(payload);
    Ok(())
}

pub(crate) fn flush(out: &mut Vec<u8>) {
    out.extend_from_slice(b"0000");
}

/// Reads packets from a complete buffer.
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { rest: bytes }
    }

    /// The next packet, `None` at the end of the buffer.
    pub fn next_pkt(&mut self) -> Result<Option<Pkt<'a>>, PktError> {
        if self.rest.is_empty() {
            return Ok(None);
        }
        let (digits, after) = self.rest.split_at_checked(4).ok_or(PktError::Truncated)?;
        let bad = || PktError::BadLength(String::from_utf8_lossy(digits).into_owned());
        let text = std::str::from_utf8(digits).map_err(|_| bad())?;
        if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let len = usize::from_str_radix(text, 16).map_err(|_| bad())?;
        match len {
            0 => {
                self.rest = after;
                Ok(Some(Pkt::Flush))
            }
            // 0001..0003 are protocol v2's delimiter and response-end packets; a v0/v1
            // stream must not carry them.
            1..=3 => Err(bad()),
            _ => {
                let (payload, after) =
                    after.split_at_checked(len - 4).ok_or(PktError::Truncated)?;
                self.rest = after;
                Ok(Some(Pkt::Data(payload)))
            }
        }
    }
}

/// A text payload without its trailing newline, which the protocol makes optional.
pub(crate) fn text_line(payload: &[u8]) -> &[u8] {
    payload.strip_suffix(b"\n").unwrap_or(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_reads_back() {
        let mut out = Vec::new();
        write(&mut out, b"unpack ok\n").unwrap();
        write(&mut out, b"").unwrap();
        flush(&mut out);
        out.extend_from_slice(b"PACK");
        assert_eq!(out, b"000eunpack ok\n00040000PACK");

        let mut reader = Reader::new(&out);
        assert_eq!(reader.next_pkt(), Ok(Some(Pkt::Data(b"unpack ok\n"))));
        assert_eq!(reader.next_pkt(), Ok(Some(Pkt::Data(b""))));
        assert_eq!(reader.next_pkt(), Ok(Some(Pkt::Flush)));
        assert_eq!(reader.rest, b"PACK");
    }

    #[test]
    fn refuses_malformed_streams() {
        assert_eq!(Reader::new(b"00").next_pkt(), Err(PktError::Truncated));
        assert_eq!(
            Reader::new(b"0010short").next_pkt(),
            Err(PktError::Truncated)
        );
        assert!(matches!(
            Reader::new(b"zzzz").next_pkt(),
            Err(PktError::BadLength(_))
        ));
        assert!(matches!(
            Reader::new(b"+fff").next_pkt(),
            Err(PktError::BadLength(_))
        ));
        // Protocol v2's delimiter has no place in a v0 stream.
        assert!(matches!(
            Reader::new(b"0001").next_pkt(),
            Err(PktError::BadLength(_))
        ));
        assert_eq!(
            write(&mut Vec::new(), &vec![b'x'; MAX_PKT]),
            Err(PktError::TooLong(MAX_PKT + 4))
        );
    }

    #[test]
    fn text_lines_lose_one_newline() {
        assert_eq!(text_line(b"ok refs/heads/main\n"), b"ok refs/heads/main");
        assert_eq!(text_line(b"ok refs/heads/main"), b"ok refs/heads/main");
    }
}
