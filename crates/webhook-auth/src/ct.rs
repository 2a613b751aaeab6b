//! Constant-time comparisons.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Equal bytes, in time independent of where they differ. Lengths are public (signatures have a
/// fixed length), so slices of different lengths are unequal at once.
pub(crate) fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// Equal secrets, in time independent of their contents *and* of the configured secret's length:
/// both sides are hashed to 32 bytes first.
pub(crate) fn secret_eq(configured: &[u8], presented: &[u8]) -> bool {
    bytes_eq(&Sha256::digest(configured), &Sha256::digest(presented))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_and_unequal() {
        assert!(bytes_eq(b"abc", b"abc"));
        assert!(!bytes_eq(b"abc", b"abd"));
        assert!(!bytes_eq(b"abc", b"abcd"));
        assert!(secret_eq(b"s3cret", b"s3cret"));
        assert!(!secret_eq(b"s3cret", b"s3cret "));
        assert!(!secret_eq(b"s3cret", b""));
    }
}
