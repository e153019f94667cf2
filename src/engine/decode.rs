//! Content decoding as requests does it while reading `.content`: urllib3's decoders, rule for
//! rule. A single `Content-Encoding` of `gzip`/`x-gzip`/`deflate` gets its decoder; a list with at
//! least one of them gets one decoder per item, applied last first, where anything but gzip is
//! taken for deflate (urllib3's `_get_decoder`). gzip accepts several members and ignores
//! garbage after the first; deflate tries zlib and falls back to raw deflate; a stream cut short
//! is not an error (zlib's `decompressobj` does not complain). A failure is
//! `DecodeError('Received response with content-encoding: …, but failed to decode it.')`, which
//! requests raises as `ContentDecodingError`.
//!
//! Work is bounded: decoded bytes are counted and only the first `keep` are stored, and decoding
//! stops (without an error) after [`MAX_DECODED`] bytes, so a decompression bomb costs at most
//! that much CPU. Every decoder of a list stops there too, per chunk, so memory stays near
//! [`MAX_DECODED`] per decoder even when a few KiB of `gzip, gzip` decode to gigabytes.

use flate2::{Decompress, FlushDecompress, Status};

/// Decoding stops here; the rest of the body is still read and counted as received.
pub(crate) const MAX_DECODED: u64 = 1 << 26;
/// Bytes the deflate decoder holds while it still tries zlib (urllib3 keeps them all).
const MAX_FIRST_TRY: usize = 1 << 20;
const CHUNK: usize = 32 * 1024;

/// The zlib framing a stream is read with (`wbits` 16+15, 15 and -15 in Python).
#[derive(Clone, Copy)]
enum Framing {
    Gzip,
    Zlib,
    Raw,
}

fn inflater(framing: Framing) -> Decompress {
    match framing {
        Framing::Gzip => Decompress::new_gzip(15),
        Framing::Zlib => Decompress::new_with_window_bits(true, 15),
        Framing::Raw => Decompress::new_with_window_bits(false, 15),
    }
}

/// Python's `decompressobj().decompress(data)`: all the output, and where unused data starts
/// when the stream ended inside `data`.
/// Stops early (`Ok(None)`) once `out` holds `limit` bytes.
fn inflate(
    z: &mut Decompress,
    data: &[u8],
    out: &mut Vec<u8>,
    limit: usize,
) -> Result<Option<usize>, String> {
    let mut pos = 0;
    let mut buf = vec![0u8; CHUNK];
    loop {
        let (in_before, out_before) = (z.total_in(), z.total_out());
        let status = z
            .decompress(&data[pos..], &mut buf, FlushDecompress::None)
            .map_err(|e| e.to_string())?;
        let consumed = (z.total_in() - in_before) as usize;
        let produced = (z.total_out() - out_before) as usize;
        pos += consumed;
        out.extend_from_slice(&buf[..produced]);
        if status == Status::StreamEnd {
            return Ok(Some(pos));
        }
        if consumed == 0 && produced == 0 {
            return Ok(None);
        }
        if out.len() >= limit {
            return Ok(None);
        }
    }
}

/// urllib3's `GzipDecoder`.
struct Gzip {
    z: Decompress,
    other_members: bool,
    swallow: bool,
}

impl Gzip {
    fn decompress(&mut self, mut data: &[u8], limit: usize) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        if self.swallow {
            return Ok(out);
        }
        while !data.is_empty() && out.len() < limit {
            match inflate(&mut self.z, data, &mut out, limit) {
                Err(e) => {
                    self.swallow = true;
                    // Garbage after a complete member is what other gzip clients accept too.
                    return if self.other_members { Ok(out) } else { Err(e) };
                }
                Ok(Some(unused)) => {
                    data = &data[unused..];
                    self.other_members = true;
                    self.z = inflater(Framing::Gzip);
                }
                Ok(None) => break,
            }
        }
        Ok(out)
    }
}

/// urllib3's `DeflateDecoder`: zlib until the first output, raw deflate if zlib fails first.
struct Deflate {
    z: Decompress,
    first_try: Option<Vec<u8>>,
}

impl Deflate {
    fn decompress(&mut self, data: &[u8], limit: usize) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        if data.is_empty() {
            return Ok(out);
        }
        let Some(seen) = self.first_try.as_mut() else {
            inflate(&mut self.z, data, &mut out, limit)?;
            return Ok(out);
        };
        if seen.len() + data.len() <= MAX_FIRST_TRY {
            seen.extend_from_slice(data);
        }
        match inflate(&mut self.z, data, &mut out, limit) {
            Ok(_) => {
                if !out.is_empty() {
                    self.first_try = None;
                }
                Ok(out)
            }
            Err(_) => {
                let seen = self.first_try.take().unwrap_or_default();
                self.z = inflater(Framing::Raw);
                inflate(&mut self.z, &seen, &mut out, limit)?;
                Ok(out)
            }
        }
    }
}

enum Decoder {
    Gzip(Gzip),
    Deflate(Deflate),
}

impl Decoder {
    fn for_name(name: &str) -> Decoder {
        if name == "gzip" || name == "x-gzip" {
            Decoder::Gzip(Gzip {
                z: inflater(Framing::Gzip),
                other_members: false,
                swallow: false,
            })
        } else {
            Decoder::Deflate(Deflate {
                z: inflater(Framing::Zlib),
                first_try: Some(Vec::new()),
            })
        }
    }

    fn decompress(&mut self, data: &[u8], limit: usize) -> Result<Vec<u8>, String> {
        match self {
            Decoder::Gzip(g) => g.decompress(data, limit),
            Decoder::Deflate(d) => d.decompress(data, limit),
        }
    }
}

const KNOWN: [&str; 3] = ["gzip", "x-gzip", "deflate"];

/// The decoded body as far as it went: how many bytes, the first `keep` of them, and the
/// error that stopped it, in urllib3's words.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Decoded {
    /// The Content-Encoding that was decoded, lower case as urllib3 reads it.
    pub encoding: String,
    pub bytes: u64,
    pub kept: Vec<u8>,
    pub error: Option<String>,
    /// Decoding stopped at [`MAX_DECODED`] bytes.
    pub capped: bool,
}

/// Decodes one response body as urllib3 would, chunk by chunk.
pub(crate) struct BodyDecoder {
    /// Applied last first (`reversed(self._decoders)`).
    decoders: Vec<Decoder>,
    keep: usize,
    /// Decoded bytes after which decoding stops: [`MAX_DECODED`] but in tests.
    budget: u64,
    result: Decoded,
}

impl BodyDecoder {
    /// A decoder for `content_encoding` (every Content-Encoding value joined with ", "), or
    /// None when urllib3 would hand the body over as it came.
    pub(crate) fn new(content_encoding: &str, keep: usize) -> Option<Self> {
        let encoding = content_encoding.to_ascii_lowercase();
        let names: Vec<&str> = if KNOWN.contains(&encoding.as_str()) {
            vec![encoding.as_str()]
        } else if encoding.contains(',') && encoding.split(',').any(|e| KNOWN.contains(&e.trim())) {
            encoding.split(',').map(str::trim).collect()
        } else {
            return None;
        };
        let decoders = names.into_iter().map(Decoder::for_name).collect();
        Some(BodyDecoder {
            decoders,
            keep,
            budget: MAX_DECODED,
            result: Decoded {
                encoding: encoding.clone(),
                ..Decoded::default()
            },
        })
    }

    /// The next bytes of the body as received.
    pub(crate) fn feed(&mut self, data: &[u8]) {
        if self.result.error.is_some() || self.result.capped {
            return;
        }
        // One byte past the budget tells a capped decoder from one that just fits.
        let limit = (self.budget.saturating_sub(self.result.bytes) + 1) as usize;
        let mut chunk = data.to_vec();
        for decoder in self.decoders.iter_mut().rev() {
            match decoder.decompress(&chunk, limit) {
                Ok(out) if out.len() >= limit => {
                    self.result.capped = true;
                    chunk = out;
                }
                Ok(out) => chunk = out,
                Err(e) => {
                    self.result.error = Some(format!(
                        "Received response with content-encoding: {}, but failed to decode it ({e})",
                        self.result.encoding
                    ));
                    return;
                }
            }
        }
        self.result.bytes += chunk.len() as u64;
        let room = self.keep.saturating_sub(self.result.kept.len());
        self.result
            .kept
            .extend_from_slice(&chunk[..chunk.len().min(room)]);
        if self.result.bytes > self.budget {
            self.result.capped = true;
        }
        if self.result.capped {
            self.result.bytes = self.budget;
        }
    }

    pub(crate) fn finish(self) -> Decoded {
        self.result
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::Compression;
    use flate2::write::{DeflateEncoder, GzEncoder, ZlibEncoder};

    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        let _ = e.write_all(data);
        e.finish().unwrap_or_default()
    }

    fn decode(encoding: &str, body: &[u8], split: usize) -> Decoded {
        let mut d = BodyDecoder::new(encoding, 1024).unwrap_or_else(|| panic!("no decoder"));
        let (a, b) = body.split_at(split.min(body.len()));
        d.feed(a);
        d.feed(b);
        d.finish()
    }

    #[test]
    fn gzip_in_pieces_and_several_members() {
        let body = gzip(b"hello gzip");
        let got = decode("gzip", &body, 7);
        assert_eq!((got.kept.as_slice(), got.error), (&b"hello gzip"[..], None));
        let mut two = gzip(b"one ");
        two.extend(gzip(b"two"));
        two.extend_from_slice(b"trailing garbage");
        assert_eq!(decode("x-gzip", &two, 3).kept, b"one two");
    }

    #[test]
    fn deflate_is_zlib_or_raw() {
        let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
        let _ = z.write_all(b"zlib body");
        let zlib = z.finish().unwrap_or_default();
        assert_eq!(decode("deflate", &zlib, 2).kept, b"zlib body");
        let mut r = DeflateEncoder::new(Vec::new(), Compression::default());
        let _ = r.write_all(b"raw body");
        let raw = r.finish().unwrap_or_default();
        assert_eq!(decode("Deflate", &raw, 1).kept, b"raw body");
    }

    #[test]
    fn garbage_fails_as_urllib3_says_and_truncation_does_not() {
        let got = decode("gzip", b"notgzip!!!", 4);
        let error = got.error.unwrap_or_default();
        assert!(
            error.starts_with(
                "Received response with content-encoding: gzip, but failed to decode it"
            ),
            "{error}"
        );
        let body = gzip(&[b'x'; 5000]);
        let cut = decode("gzip", &body[..body.len() - 8], 5);
        assert_eq!(cut.error, None);
    }

    #[test]
    fn which_encodings_get_a_decoder() {
        assert!(BodyDecoder::new("br", 10).is_none());
        assert!(BodyDecoder::new("identity", 10).is_none());
        assert!(BodyDecoder::new("", 10).is_none());
        // In a list, anything but gzip is read as deflate (urllib3's quirk): plain text fails.
        let mut inner = ZlibEncoder::new(Vec::new(), Compression::default());
        let _ = inner.write_all(b"both");
        let both = gzip(&inner.finish().unwrap_or_default());
        assert_eq!(decode("deflate, gzip", &both, 9).kept, b"both");
        assert!(decode("identity, gzip", &gzip(b"plain"), 3).error.is_some());
    }

    #[test]
    fn a_nested_bomb_stops_at_the_budget_in_every_decoder() {
        // 64 members of 64 KiB of zeros, gzipped again: a body of a few hundred bytes whose
        // inner stream alone is past the budget (4 MiB of output for a 1 MiB budget).
        let member = gzip(&[0u8; 1 << 16]);
        let bomb = gzip(&member.repeat(64));
        let mut d = BodyDecoder::new("gzip, gzip", 16).unwrap_or_else(|| panic!("no decoder"));
        d.budget = 1 << 20;
        d.feed(&bomb);
        d.feed(&bomb);
        let got = d.finish();
        assert!(got.capped, "{:?}", (got.bytes, got.error));
        assert_eq!((got.bytes, got.kept.len()), (1 << 20, 16));
    }
}
