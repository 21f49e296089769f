//! Lowercase hex, and random identifiers from the operating system's generator.

use std::fmt::Write;

/// `bytes` as lowercase hex, two digits a byte.
pub fn encode(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, byte| {
            let _ = write!(out, "{byte:02x}");
            out
        })
}

/// The bytes of a lowercase or uppercase hex string of exactly `N` bytes; None for anything else.
pub fn decode_array<const N: usize>(text: &str) -> Option<[u8; N]> {
    let digits = text.as_bytes();
    if digits.len() != N * 2 {
        return None;
    }
    let nibble = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut out = [0u8; N];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = nibble(pair[0])? << 4 | nibble(pair[1])?;
    }
    Some(out)
}

/// Fills `buf` from the operating system's random generator (never a seeded or time-based one).
pub fn fill_random(buf: &mut [u8]) -> std::io::Result<()> {
    getrandom::fill(buf).map_err(|error| {
        std::io::Error::other(format!(
            "the operating system's random number generator failed: {error}"
        ))
    })
}

/// `N` random bytes from the operating system's generator.
pub fn random_bytes<const N: usize>() -> std::io::Result<[u8; N]> {
    let mut bytes = [0u8; N];
    fill_random(&mut bytes)?;
    Ok(bytes)
}

/// `len` random bytes from the operating system's generator, hex-encoded (`2 * len` characters).
pub fn random(len: usize) -> std::io::Result<String> {
    let mut bytes = vec![0u8; len];
    fill_random(&mut bytes)?;
    Ok(encode(&bytes))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn encodes_lowercase_two_digits_a_byte() {
        assert_eq!(encode(&[]), "");
        assert_eq!(encode(&[0, 0x0f, 0xab, 0xff]), "000fabff");
    }

    #[test]
    fn decodes_what_it_encodes_and_refuses_the_rest() {
        assert_eq!(decode_array::<4>("000fabff"), Some([0, 0x0f, 0xab, 0xff]));
        assert_eq!(decode_array::<2>("ABcd"), Some([0xab, 0xcd]));
        assert_eq!(decode_array::<2>("abc"), None);
        assert_eq!(decode_array::<2>("abcdef"), None);
        assert_eq!(decode_array::<2>("zz00"), None);
        assert_eq!(decode_array::<1>("é"), None);
    }

    #[test]
    fn random_values_differ_and_have_the_asked_length() {
        let a = random(16).unwrap();
        assert_eq!(a.len(), 32);
        assert_ne!(a, random(16).unwrap());
        assert_ne!(random_bytes::<16>().unwrap(), random_bytes::<16>().unwrap());
    }
}
