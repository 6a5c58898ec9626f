//! Ephemeral (EC)DH key agreement for TLS key shares: x25519 (RFC 7748) and the
//! NIST curves P-256 and P-384 (RFC 8446 §4.2.8.2, §7.4; RFC 8422 §5.10).

use aws_lc_rs::agreement::{self, PrivateKey, UnparsedPublicKey};

/// A named group of the core, by its TLS code point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    X25519,
    Secp256r1,
    Secp384r1,
}

impl Group {
    pub fn from_code(code: u16) -> Option<Group> {
        match code {
            0x001d => Some(Group::X25519),
            0x0017 => Some(Group::Secp256r1),
            0x0018 => Some(Group::Secp384r1),
            _ => None,
        }
    }

    pub fn code(self) -> u16 {
        match self {
            Group::X25519 => 0x001d,
            Group::Secp256r1 => 0x0017,
            Group::Secp384r1 => 0x0018,
        }
    }

    fn algorithm(self) -> &'static agreement::Algorithm {
        match self {
            Group::X25519 => &agreement::X25519,
            Group::Secp256r1 => &agreement::ECDH_P256,
            Group::Secp384r1 => &agreement::ECDH_P384,
        }
    }

    /// Bytes of a private scalar and of a coordinate (x25519: of the u-coordinate).
    pub fn field_len(self) -> usize {
        match self {
            Group::X25519 | Group::Secp256r1 => 32,
            Group::Secp384r1 => 48,
        }
    }

    /// Length of a `key_exchange` value: 32 bytes for x25519, else 0x04 || X || Y.
    pub fn share_len(self) -> usize {
        match self {
            Group::X25519 => 32,
            _ => 1 + 2 * self.field_len(),
        }
    }
}

/// Why an agreement failed.
#[derive(Debug, PartialEq, Eq)]
pub enum AgreementError {
    /// The private key given is not a scalar of the group.
    PrivateKey(&'static str),
    /// The peer's share is malformed, not on the curve, or gives an all-zero secret.
    PeerShare(&'static str),
    /// Key generation failed (the system's randomness).
    Internal,
}

/// Our private key of one group and its public `key_exchange` value.
pub struct KeyPair {
    group: Group,
    private: PrivateKey,
    public: Vec<u8>,
}

impl KeyPair {
    /// A fresh key from the system's randomness.
    pub fn generate(group: Group) -> Result<KeyPair, AgreementError> {
        let private =
            PrivateKey::generate(group.algorithm()).map_err(|_| AgreementError::Internal)?;
        KeyPair::from_private(group, private)
    }

    /// A known key (RFC 7748 scalar bytes, or a big-endian P-256/P-384 scalar), for vectors.
    pub fn from_bytes(group: Group, scalar: &[u8]) -> Result<KeyPair, AgreementError> {
        if scalar.len() != group.field_len() {
            return Err(AgreementError::PrivateKey(
                "private key has the wrong length",
            ));
        }
        let private = PrivateKey::from_private_key(group.algorithm(), scalar)
            .map_err(|_| AgreementError::PrivateKey("private key is not a scalar of the group"))?;
        KeyPair::from_private(group, private)
    }

    fn from_private(group: Group, private: PrivateKey) -> Result<KeyPair, AgreementError> {
        let public = private
            .compute_public_key()
            .map_err(|_| AgreementError::Internal)?
            .as_ref()
            .to_vec();
        Ok(KeyPair {
            group,
            private,
            public,
        })
    }

    pub fn group(&self) -> Group {
        self.group
    }

    pub fn public(&self) -> &[u8] {
        &self.public
    }

    /// The shared secret with the peer's `key_exchange` value: x25519's 32 bytes,
    /// or the x-coordinate for the NIST curves (§7.4.2).
    pub fn exchange(&self, peer: &[u8]) -> Result<Vec<u8>, AgreementError> {
        if peer.len() != self.group.share_len() {
            return Err(AgreementError::PeerShare(match self.group {
                Group::X25519 => "x25519 share is not 32 bytes",
                _ => "EC share is not an uncompressed point",
            }));
        }
        if self.group != Group::X25519 && peer[0] != 4 {
            return Err(AgreementError::PeerShare(
                "EC share is not an uncompressed point",
            ));
        }
        let invalid = AgreementError::PeerShare(match self.group {
            Group::X25519 => "x25519 share gives an all-zero secret",
            _ => "EC share is not a point on the curve",
        });
        let peer = UnparsedPublicKey::new(self.group.algorithm(), peer);
        let secret = agreement::agree(&self.private, peer, invalid, |k| Ok(k.to_vec()))?;
        // RFC 8446 §7.4.2 / RFC 7748 §6.1: an all-zero x25519 result is refused.
        if self.group == Group::X25519 && secret.iter().all(|&b| b == 0) {
            return Err(AgreementError::PeerShare(
                "x25519 share gives an all-zero secret",
            ));
        }
        Ok(secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kdf::tests::unhex;

    #[test]
    fn rfc7748_section_6_1() {
        let alice = KeyPair::from_bytes(
            Group::X25519,
            &unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"),
        )
        .unwrap();
        let bob = KeyPair::from_bytes(
            Group::X25519,
            &unhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"),
        )
        .unwrap();
        assert_eq!(
            alice.public(),
            unhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
        );
        let shared = unhex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
        assert_eq!(alice.exchange(bob.public()).unwrap(), shared);
        assert_eq!(bob.exchange(alice.public()).unwrap(), shared);
    }

    #[test]
    fn generated_keys_agree_on_every_group() {
        for group in [Group::X25519, Group::Secp256r1, Group::Secp384r1] {
            let (a, b) = (
                KeyPair::generate(group).unwrap(),
                KeyPair::generate(group).unwrap(),
            );
            assert_eq!(a.public().len(), group.share_len());
            assert_eq!(
                a.exchange(b.public()).unwrap(),
                b.exchange(a.public()).unwrap()
            );
        }
    }

    #[test]
    fn bad_shares_are_refused() {
        let x = KeyPair::generate(Group::X25519).unwrap();
        assert!(x.exchange(&[0u8; 31]).is_err());
        assert!(x.exchange(&[0u8; 32]).is_err()); // low order: all-zero secret
        let p = KeyPair::generate(Group::Secp256r1).unwrap();
        let mut point = KeyPair::generate(Group::Secp256r1)
            .unwrap()
            .public()
            .to_vec();
        point[0] = 2;
        assert!(p.exchange(&point).is_err());
        point[0] = 4;
        point[64] ^= 1; // off the curve
        assert!(p.exchange(&point).is_err());
    }
}
