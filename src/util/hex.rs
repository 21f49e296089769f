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
    fn random_values_differ_and_have_the_asked_length() {
        let a = random(16).unwrap();
        assert_eq!(a.len(), 32);
        assert_ne!(a, random(16).unwrap());
        assert_ne!(random_bytes::<16>().unwrap(), random_bytes::<16>().unwrap());
    }
}
