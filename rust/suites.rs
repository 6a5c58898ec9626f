//! Cipher suites, hashes and AEADs known to the core (IANA names and code points).

use aws_lc_rs::aead;

/// The hash of a suite's PRF or HKDF.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hash {
    Sha256,
    Sha384,
}

impl Hash {
    pub fn from_name(name: &str) -> Option<Hash> {
        match name.to_ascii_lowercase().replace('-', "").as_str() {
            "sha256" => Some(Hash::Sha256),
            "sha384" => Some(Hash::Sha384),
            _ => None,
        }
    }

    pub fn output_len(self) -> usize {
        match self {
            Hash::Sha256 => 32,
            Hash::Sha384 => 48,
        }
    }

    pub fn hmac(self) -> aws_lc_rs::hmac::Algorithm {
        match self {
            Hash::Sha256 => aws_lc_rs::hmac::HMAC_SHA256,
            Hash::Sha384 => aws_lc_rs::hmac::HMAC_SHA384,
        }
    }

    pub fn hkdf(self) -> aws_lc_rs::hkdf::Algorithm {
        match self {
            Hash::Sha256 => aws_lc_rs::hkdf::HKDF_SHA256,
            Hash::Sha384 => aws_lc_rs::hkdf::HKDF_SHA384,
        }
    }

    pub fn digest(self) -> &'static aws_lc_rs::digest::Algorithm {
        match self {
            Hash::Sha256 => &aws_lc_rs::digest::SHA256,
            Hash::Sha384 => &aws_lc_rs::digest::SHA384,
        }
    }
}

/// A record protection algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Aead {
    Aes128Gcm,
    Aes256Gcm,
    ChaCha20Poly1305,
}

impl Aead {
    pub fn from_name(name: &str) -> Option<Aead> {
        match name.to_ascii_uppercase().as_str() {
            "AES-128-GCM" => Some(Aead::Aes128Gcm),
            "AES-256-GCM" => Some(Aead::Aes256Gcm),
            "CHACHA20-POLY1305" => Some(Aead::ChaCha20Poly1305),
            _ => None,
        }
    }

    pub fn algorithm(self) -> &'static aead::Algorithm {
        match self {
            Aead::Aes128Gcm => &aead::AES_128_GCM,
            Aead::Aes256Gcm => &aead::AES_256_GCM,
            Aead::ChaCha20Poly1305 => &aead::CHACHA20_POLY1305,
        }
    }

    pub fn key_len(self) -> usize {
        match self {
            Aead::Aes128Gcm => 16,
            Aead::Aes256Gcm | Aead::ChaCha20Poly1305 => 32,
        }
    }
}

/// A protocol version with record protection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    Tls12,
    Tls13,
}

impl Version {
    pub fn from_name(name: &str) -> Option<Version> {
        match name {
            "1.2" => Some(Version::Tls12),
            "1.3" => Some(Version::Tls13),
            _ => None,
        }
    }

    pub fn from_code(code: u16) -> Option<Version> {
        match code {
            0x0303 => Some(Version::Tls12),
            0x0304 => Some(Version::Tls13),
            _ => None,
        }
    }

    pub fn code(self) -> u16 {
        match self {
            Version::Tls12 => 0x0303,
            Version::Tls13 => 0x0304,
        }
    }
}

/// One cipher suite: its code point, name, version, AEAD and hash.
#[derive(Debug, PartialEq, Eq)]
pub struct Suite {
    pub code: u16,
    pub name: &'static str,
    pub version: Version,
    pub aead: Aead,
    pub hash: Hash,
}

impl Suite {
    /// Length of the IV the key schedule derives: TLS 1.3 and ChaCha20 use
    /// 12 bytes, TLS 1.2 AES-GCM a 4-byte salt (RFC 5288 §3).
    pub fn iv_len(&self) -> usize {
        match (self.version, self.aead) {
            (Version::Tls12, Aead::Aes128Gcm | Aead::Aes256Gcm) => 4,
            _ => 12,
        }
    }
}

macro_rules! suite {
    ($code:expr, $name:expr, $version:ident, $aead:ident, $hash:ident) => {
        Suite {
            code: $code,
            name: $name,
            version: Version::$version,
            aead: Aead::$aead,
            hash: Hash::$hash,
        }
    };
}

/// Every suite the core supports.
pub static SUITES: &[Suite] = &[
    suite!(0x1301, "TLS_AES_128_GCM_SHA256", Tls13, Aes128Gcm, Sha256),
    suite!(0x1302, "TLS_AES_256_GCM_SHA384", Tls13, Aes256Gcm, Sha384),
    suite!(
        0x1303,
        "TLS_CHACHA20_POLY1305_SHA256",
        Tls13,
        ChaCha20Poly1305,
        Sha256
    ),
    suite!(
        0x009C,
        "TLS_RSA_WITH_AES_128_GCM_SHA256",
        Tls12,
        Aes128Gcm,
        Sha256
    ),
    suite!(
        0x009D,
        "TLS_RSA_WITH_AES_256_GCM_SHA384",
        Tls12,
        Aes256Gcm,
        Sha384
    ),
    suite!(
        0xC02F,
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        Tls12,
        Aes128Gcm,
        Sha256
    ),
    suite!(
        0xC030,
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        Tls12,
        Aes256Gcm,
        Sha384
    ),
    suite!(
        0xCCA8,
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        Tls12,
        ChaCha20Poly1305,
        Sha256
    ),
    suite!(
        0xC02B,
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        Tls12,
        Aes128Gcm,
        Sha256
    ),
    suite!(
        0xC02C,
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        Tls12,
        Aes256Gcm,
        Sha384
    ),
    suite!(
        0xCCA9,
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        Tls12,
        ChaCha20Poly1305,
        Sha256
    ),
];

pub fn by_name(name: &str) -> Option<&'static Suite> {
    SUITES.iter().find(|s| s.name.eq_ignore_ascii_case(name))
}

pub fn by_code(code: u16) -> Option<&'static Suite> {
    SUITES.iter().find(|s| s.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_codes_agree() {
        for s in SUITES {
            assert_eq!(by_name(s.name), Some(s));
            assert_eq!(by_code(s.code), Some(s));
        }
        assert!(by_name("TLS_RSA_WITH_RC4_128_SHA").is_none());
    }
}
