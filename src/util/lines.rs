//! Reading newline-separated input in bounded memory: a line longer than the cap is consumed and
//! reported by its length instead of being held. Outside files (transcripts) and outside processes
//! (Claude's stdout) can write a line of any length, even gigabytes with no newline.
//!
//! [`CappedLines`] is the reader's state, shared by the blocking ([`CappedLines::next`]) and the async
//! ([`CappedLines::next_async`]) forms. The async form is cancel-safe: a read cut short in a `select!`
//! keeps what it had taken, and the next call goes on from there.

use std::io::BufRead;

use tokio::io::{AsyncBufRead, AsyncBufReadExt};

/// The longest JSON line (a transcript's or Claude's stream-json) that is read; a longer one is skipped
/// and counted. Real lines stay far below it: the largest are tool results and images, which the API
/// limits to a few megabytes.
pub const MAX_JSON_LINE: usize = 32 * 1024 * 1024;

/// One line as read.
#[derive(Debug, PartialEq, Eq)]
pub enum Piece<'a> {
    /// The line's bytes, with its newline when it had one.
    Line { bytes: &'a [u8], complete: bool },
    /// A line over the cap: its length in bytes (with its newline), of which none was kept.
    TooLong { bytes: u64, complete: bool },
}

impl Piece<'_> {
    /// Whether the line ended with a newline (else it ended at the end of the input).
    pub fn complete(&self) -> bool {
        match self {
            Piece::Line { complete, .. } | Piece::TooLong { complete, .. } => *complete,
        }
    }

    /// How many bytes of input the line took, newline included.
    pub fn len(&self) -> u64 {
        match self {
            Piece::Line { bytes, .. } => bytes.len() as u64,
            Piece::TooLong { bytes, .. } => *bytes,
        }
    }

    /// Whether the line took no input (never true of a returned piece).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Lines of at most `cap` bytes; see the module's documentation.
#[derive(Debug)]
pub struct CappedLines {
    cap: usize,
    buf: Vec<u8>,
    /// Bytes of the current line that were dropped because it passed the cap.
    dropped: u64,
    /// The last call returned a line, so the next one starts a new line.
    returned: bool,
}

impl CappedLines {
    /// A reader keeping lines of up to `cap` bytes (newline included).
    pub fn new(cap: usize) -> Self {
        Self {
            cap: cap.max(1),
            buf: Vec::new(),
            dropped: 0,
            returned: false,
        }
    }

    /// The next line of `reader`, or `None` at the end of the input.
    pub fn next<R: BufRead + ?Sized>(&mut self, reader: &mut R) -> std::io::Result<Option<Piece<'_>>> {
        self.start();
        loop {
            let available = reader.fill_buf()?;
            if available.is_empty() {
                return Ok(self.finish(false));
            }
            let (used, done) = self.take(available);
            reader.consume(used);
            if done {
                return Ok(self.finish(true));
            }
        }
    }

    /// The async form of [`Self::next`]; cancel-safe.
    pub async fn next_async<R: AsyncBufRead + Unpin + ?Sized>(
        &mut self,
        reader: &mut R,
    ) -> std::io::Result<Option<Piece<'_>>> {
        self.start();
        loop {
            let available = reader.fill_buf().await?;
            if available.is_empty() {
                return Ok(self.finish(false));
            }
            let (used, done) = self.take(available);
            reader.consume(used);
            if done {
                return Ok(self.finish(true));
            }
        }
    }

    fn start(&mut self) {
        if self.returned {
            self.buf.clear();
            self.dropped = 0;
            self.returned = false;
        }
    }

    /// Takes bytes of `available` up to and including a newline; says how many and whether the line ended.
    fn take(&mut self, available: &[u8]) -> (usize, bool) {
        let (part, done) = match memchr::memchr(b'\n', available) {
            Some(end) => (&available[..=end], true),
            None => (available, false),
        };
        if self.dropped > 0 || self.buf.len() + part.len() > self.cap {
            self.dropped += (self.buf.len() + part.len()) as u64;
            // Give back what the long line's start had taken.
            self.buf = Vec::new();
        } else {
            self.buf.extend_from_slice(part);
        }
        (part.len(), done)
    }

    fn finish(&mut self, complete: bool) -> Option<Piece<'_>> {
        if self.buf.is_empty() && self.dropped == 0 {
            return None;
        }
        self.returned = true;
        Some(if self.dropped > 0 {
            Piece::TooLong {
                bytes: self.dropped,
                complete,
            }
        } else {
            Piece::Line {
                bytes: &self.buf,
                complete,
            }
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn all(input: &[u8], cap: usize, chunk: usize) -> Vec<String> {
        let mut reader = std::io::BufReader::with_capacity(chunk, input);
        let mut lines = CappedLines::new(cap);
        let mut out = Vec::new();
        while let Some(piece) = lines.next(&mut reader).unwrap() {
            out.push(match piece {
                Piece::Line { bytes, complete } => {
                    format!("{}{}", String::from_utf8_lossy(bytes), if complete { "" } else { "|" })
                }
                Piece::TooLong { bytes, complete } => format!("<{bytes}{}>", if complete { "" } else { "|" }),
            });
        }
        out
    }

    #[test]
    fn lines_under_the_cap_come_whole_and_longer_ones_by_length() {
        let input = b"ab\n0123456789\n\nxyz";
        for chunk in [1, 2, 3, 64] {
            assert_eq!(all(input, 4, chunk), ["ab\n", "<11>", "\n", "xyz|"], "chunk {chunk}");
        }
        assert_eq!(all(b"0123456789", 4, 3), ["<10|>"]);
        assert!(all(b"", 4, 3).is_empty());
    }

    #[test]
    fn a_line_of_many_megabytes_is_skipped_without_holding_it() {
        let mut input = vec![b'x'; 50 * 1024 * 1024];
        input.extend_from_slice(b"\n{\"a\":1}\n");
        let mut reader = std::io::BufReader::new(&input[..]);
        let mut lines = CappedLines::new(1024);
        assert_eq!(
            lines.next(&mut reader).unwrap(),
            Some(Piece::TooLong {
                bytes: 50 * 1024 * 1024 + 1,
                complete: true
            })
        );
        assert!(lines.buf.capacity() <= 2048, "held {} bytes", lines.buf.capacity());
        assert_eq!(
            lines.next(&mut reader).unwrap(),
            Some(Piece::Line {
                bytes: b"{\"a\":1}\n",
                complete: true
            })
        );
        assert_eq!(lines.next(&mut reader).unwrap(), None);
    }

    #[tokio::test]
    async fn the_async_form_reads_the_same_and_survives_being_cut_short() {
        let (mut writer, reader) = tokio::io::duplex(8);
        let mut reader = tokio::io::BufReader::new(reader);
        let mut lines = CappedLines::new(64);
        let write = tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            writer.write_all(b"first half ").await.unwrap();
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            writer.write_all(b"and the rest\nnext\n").await.unwrap();
        });
        // A read cut short by a timeout keeps what it took.
        let cut = tokio::time::timeout(std::time::Duration::from_millis(10), lines.next_async(&mut reader)).await;
        assert!(cut.is_err());
        let piece = lines.next_async(&mut reader).await.unwrap();
        assert_eq!(
            piece,
            Some(Piece::Line {
                bytes: b"first half and the rest\n",
                complete: true
            })
        );
        let piece = lines.next_async(&mut reader).await.unwrap();
        assert_eq!(
            piece,
            Some(Piece::Line {
                bytes: b"next\n",
                complete: true
            })
        );
        write.await.unwrap();
        assert_eq!(lines.next_async(&mut reader).await.unwrap(), None);
    }
}
