//! Random secrets and their hashes: API keys (`rpk_<id>_<secret>`), session
//! and one-time tokens, all from the operating system's generator, compared
//! as BLAKE3 hashes in constant time.
//!
//! It must never log, format into an error, or store a secret; only
//! [`hash`] values leave this module for storage.

use subtle::ConstantTimeEq;

/// The prefix of every API key, so that a leaked key is recognisable.
pub const KEY_PREFIX: &str = "rpk_";

#[derive(Debug, thiserror::Error)]
#[error("the operating system's random generator failed: {0}")]
pub struct RandomError(String);

/// `bytes` random bytes from the OS, as lower-case hex.
pub fn random_hex(bytes: usize) -> Result<String, RandomError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| RandomError(e.to_string()))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// 256 random bits, hex: session tokens, one-time links, key secrets.
pub fn token() -> Result<String, RandomError> {
    random_hex(32)
}

/// The stored form of a secret.
pub fn hash(secret: &str) -> String {
    blake3::hash(secret.as_bytes()).to_hex().to_string()
}

/// True when `secret` hashes to `stored`, compared in constant time.
pub fn matches(secret: &str, stored: &str) -> bool {
    hash(secret).as_bytes().ct_eq(stored.as_bytes()).into()
}

/// A new API key: (key id, the whole key to hand out once).
pub fn new_key() -> Result<(String, String), RandomError> {
    let id = random_hex(6)?;
    let secret = token()?;
    Ok((id.clone(), format!("{KEY_PREFIX}{id}_{secret}")))
}

/// The key id of a presented key, if it has the key's shape.
pub fn key_id(presented: &str) -> Option<&str> {
    let rest = presented.strip_prefix(KEY_PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    (id.len() == 12 && secret.len() == 64).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_random_and_parse_back_to_their_id() {
        let (id, key) = new_key().unwrap();
        let (_, other) = new_key().unwrap();
        assert_ne!(key, other);
        assert_eq!(key_id(&key), Some(id.as_str()));
        assert_eq!(key_id("rpk_short_x"), None);
        assert!(matches(&key, &hash(&key)));
        assert!(!matches(&other, &hash(&key)));
    }
}
