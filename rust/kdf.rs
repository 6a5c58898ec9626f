//! Key derivation: the TLS 1.2 PRF (RFC 5246 §5, RFC 7627) and the TLS 1.3
//! HKDF key schedule (RFC 8446 §7.1).

use aws_lc_rs::{hkdf, hmac};

use crate::suites::{Hash, Suite, Version};

/// Why a derivation was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum KdfError {
    /// An output length that the construction cannot produce.
    Length(&'static str),
    /// A stage asked for before the one it follows.
    Order(&'static str),
    /// A suite of the wrong protocol version.
    Version(&'static str),
}

pub fn hmac(hash: Hash, key: &[u8], data: &[u8]) -> Vec<u8> {
    hmac::sign(&hmac::Key::new(hash.hmac(), key), data)
        .as_ref()
        .to_vec()
}

/// P_hash(secret, label || seed) of RFC 5246 §5, `out.len()` bytes.
pub fn p_hash(hash: Hash, secret: &[u8], label: &[u8], seed: &[u8], out: &mut [u8]) {
    let key = hmac::Key::new(hash.hmac(), secret);
    // A(1) = HMAC(secret, label || seed)
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(label);
    ctx.update(seed);
    let mut a = ctx.sign();
    let mut filled = 0;
    while filled < out.len() {
        let mut ctx = hmac::Context::with_key(&key);
        ctx.update(a.as_ref());
        ctx.update(label);
        ctx.update(seed);
        let block = ctx.sign();
        let n = block.as_ref().len().min(out.len() - filled);
        out[filled..filled + n].copy_from_slice(&block.as_ref()[..n]);
        filled += n;
        if filled < out.len() {
            a = hmac::sign(&key, a.as_ref());
        }
    }
}

pub fn tls12_prf(hash: Hash, secret: &[u8], label: &[u8], seed: &[u8], len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    p_hash(hash, secret, label, seed, &mut out);
    out
}

/// master_secret = PRF(pms, "master secret", client_random || server_random)[0..48]
pub fn tls12_master_secret(
    hash: Hash,
    pms: &[u8],
    client_random: &[u8],
    server_random: &[u8],
) -> Vec<u8> {
    let seed = [client_random, server_random].concat();
    tls12_prf(hash, pms, b"master secret", &seed, 48)
}

/// RFC 7627 §4: PRF(pms, "extended master secret", session_hash)[0..48]
pub fn tls12_extended_master_secret(hash: Hash, pms: &[u8], session_hash: &[u8]) -> Vec<u8> {
    tls12_prf(hash, pms, b"extended master secret", session_hash, 48)
}

/// Client and server write keys and IVs of an AEAD suite (RFC 5246 §6.3).
pub struct Tls12Keys {
    pub client_key: Vec<u8>,
    pub server_key: Vec<u8>,
    pub client_iv: Vec<u8>,
    pub server_iv: Vec<u8>,
}

pub fn tls12_key_block(
    suite: &Suite,
    master_secret: &[u8],
    client_random: &[u8],
    server_random: &[u8],
) -> Result<Tls12Keys, KdfError> {
    if suite.version != Version::Tls12 {
        return Err(KdfError::Version("a TLS 1.2 suite is needed"));
    }
    let (k, i) = (suite.aead.key_len(), suite.iv_len());
    let seed = [server_random, client_random].concat();
    let block = tls12_prf(
        suite.hash,
        master_secret,
        b"key expansion",
        &seed,
        2 * (k + i),
    );
    Ok(Tls12Keys {
        client_key: block[..k].to_vec(),
        server_key: block[k..2 * k].to_vec(),
        client_iv: block[2 * k..2 * k + i].to_vec(),
        server_iv: block[2 * k + i..].to_vec(),
    })
}

/// Finished.verify_data = PRF(master_secret, label, Hash(handshake_messages))[0..12]
pub fn tls12_verify_data(
    hash: Hash,
    master_secret: &[u8],
    label: &[u8],
    handshake_hash: &[u8],
) -> Vec<u8> {
    tls12_prf(hash, master_secret, label, handshake_hash, 12)
}

struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

pub fn hkdf_extract(hash: Hash, salt: &[u8], ikm: &[u8]) -> Vec<u8> {
    // HKDF-Extract is HMAC(salt, ikm); an empty salt means HashLen zeros (RFC 5869 §2.2),
    // which HMAC's key padding gives for free.
    hmac(hash, salt, ikm)
}

pub fn hkdf_expand(hash: Hash, prk: &[u8], info: &[u8], len: usize) -> Result<Vec<u8>, KdfError> {
    if len > 255 * hash.output_len() {
        return Err(KdfError::Length(
            "HKDF-Expand output is limited to 255 * HashLen",
        ));
    }
    let prk = hkdf::Prk::new_less_safe(hash.hkdf(), prk);
    let mut out = vec![0u8; len];
    let info = [info];
    prk.expand(&info, Len(len))
        .and_then(|okm| okm.fill(&mut out))
        .map_err(|_| KdfError::Length("HKDF-Expand refused the output length"))?;
    Ok(out)
}

/// HKDF-Expand-Label(secret, label, context, length), RFC 8446 §7.1; `label` excludes "tls13 ".
pub fn hkdf_expand_label(
    hash: Hash,
    secret: &[u8],
    label: &[u8],
    context: &[u8],
    len: usize,
) -> Result<Vec<u8>, KdfError> {
    if len > 0xffff || label.len() + 6 > 255 || context.len() > 255 {
        return Err(KdfError::Length("HkdfLabel field out of range"));
    }
    let mut info = Vec::with_capacity(4 + 6 + label.len() + context.len());
    info.extend_from_slice(&(len as u16).to_be_bytes());
    info.push((6 + label.len()) as u8);
    info.extend_from_slice(b"tls13 ");
    info.extend_from_slice(label);
    info.push(context.len() as u8);
    info.extend_from_slice(context);
    hkdf_expand(hash, secret, &info, len)
}

pub fn derive_secret(
    hash: Hash,
    secret: &[u8],
    label: &[u8],
    transcript_hash: &[u8],
) -> Result<Vec<u8>, KdfError> {
    hkdf_expand_label(hash, secret, label, transcript_hash, hash.output_len())
}

/// Traffic key and IV from a traffic secret (RFC 8446 §7.3).
pub fn tls13_traffic_keys(suite: &Suite, secret: &[u8]) -> Result<(Vec<u8>, Vec<u8>), KdfError> {
    let key = hkdf_expand_label(suite.hash, secret, b"key", b"", suite.aead.key_len())?;
    let iv = hkdf_expand_label(suite.hash, secret, b"iv", b"", 12)?;
    Ok((key, iv))
}

/// application_traffic_secret_N+1 (RFC 8446 §7.2).
pub fn tls13_next_secret(suite: &Suite, secret: &[u8]) -> Result<Vec<u8>, KdfError> {
    hkdf_expand_label(
        suite.hash,
        secret,
        b"traffic upd",
        b"",
        suite.hash.output_len(),
    )
}

/// The secrets, keys and IVs of one stage, both directions.
pub struct Stage {
    pub client_secret: Vec<u8>,
    pub server_secret: Vec<u8>,
    pub client_key: Vec<u8>,
    pub client_iv: Vec<u8>,
    pub server_key: Vec<u8>,
    pub server_iv: Vec<u8>,
    pub client_finished_key: Vec<u8>,
    pub server_finished_key: Vec<u8>,
}

fn stage(suite: &Suite, secret: &[u8], labels: [&[u8]; 2], th: &[u8]) -> Result<Stage, KdfError> {
    let h = suite.hash;
    let client_secret = derive_secret(h, secret, labels[0], th)?;
    let server_secret = derive_secret(h, secret, labels[1], th)?;
    let (client_key, client_iv) = tls13_traffic_keys(suite, &client_secret)?;
    let (server_key, server_iv) = tls13_traffic_keys(suite, &server_secret)?;
    let client_finished_key =
        hkdf_expand_label(h, &client_secret, b"finished", b"", h.output_len())?;
    let server_finished_key =
        hkdf_expand_label(h, &server_secret, b"finished", b"", h.output_len())?;
    Ok(Stage {
        client_secret,
        server_secret,
        client_key,
        client_iv,
        server_key,
        server_iv,
        client_finished_key,
        server_finished_key,
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Early,
    Handshake,
    Master,
}

/// The RFC 8446 §7.1 key schedule. Stages can only move forward.
pub struct KeySchedule {
    pub suite: &'static Suite,
    pub early_secret: Vec<u8>,
    pub handshake_secret: Option<Vec<u8>>,
    pub master_secret: Option<Vec<u8>>,
    step: Step,
}

impl KeySchedule {
    pub fn new(suite: &'static Suite, psk: Option<&[u8]>) -> Result<KeySchedule, KdfError> {
        if suite.version != Version::Tls13 {
            return Err(KdfError::Version("a TLS 1.3 suite is needed"));
        }
        let zeros = vec![0u8; suite.hash.output_len()];
        let early_secret = hkdf_extract(suite.hash, &zeros, psk.unwrap_or(&zeros));
        Ok(KeySchedule {
            suite,
            early_secret,
            handshake_secret: None,
            master_secret: None,
            step: Step::Early,
        })
    }

    fn empty_hash(&self) -> Vec<u8> {
        aws_lc_rs::digest::digest(self.suite.hash.digest(), b"")
            .as_ref()
            .to_vec()
    }

    /// Handshake secret and the handshake traffic stage, from the (EC)DHE secret
    /// and the transcript hash of ClientHello..ServerHello.
    pub fn handshake_stage(&mut self, shared_secret: &[u8], th: &[u8]) -> Result<Stage, KdfError> {
        if self.step != Step::Early {
            return Err(KdfError::Order("the handshake stage was already derived"));
        }
        let h = self.suite.hash;
        let derived = derive_secret(h, &self.early_secret, b"derived", &self.empty_hash())?;
        let hs = hkdf_extract(h, &derived, shared_secret);
        let stage = stage(self.suite, &hs, [b"c hs traffic", b"s hs traffic"], th)?;
        self.handshake_secret = Some(hs);
        self.step = Step::Handshake;
        Ok(stage)
    }

    /// Master secret and the application traffic stage, from the transcript hash
    /// of ClientHello..server Finished.
    pub fn application_stage(&mut self, th: &[u8]) -> Result<Stage, KdfError> {
        let hs = match (&self.step, &self.handshake_secret) {
            (Step::Handshake, Some(hs)) => hs.clone(),
            (Step::Early, _) => return Err(KdfError::Order("the handshake stage comes first")),
            _ => return Err(KdfError::Order("the application stage was already derived")),
        };
        let h = self.suite.hash;
        let derived = derive_secret(h, &hs, b"derived", &self.empty_hash())?;
        let zeros = vec![0u8; h.output_len()];
        let ms = hkdf_extract(h, &derived, &zeros);
        let stage = stage(self.suite, &ms, [b"c ap traffic", b"s ap traffic"], th)?;
        self.master_secret = Some(ms);
        self.step = Step::Master;
        Ok(stage)
    }

    fn derive_from_master(&self, label: &[u8], th: &[u8]) -> Result<Vec<u8>, KdfError> {
        match &self.master_secret {
            Some(ms) => derive_secret(self.suite.hash, ms, label, th),
            None => Err(KdfError::Order("the application stage comes first")),
        }
    }

    pub fn exporter_master_secret(&self, th: &[u8]) -> Result<Vec<u8>, KdfError> {
        self.derive_from_master(b"exp master", th)
    }

    pub fn resumption_master_secret(&self, th: &[u8]) -> Result<Vec<u8>, KdfError> {
        self.derive_from_master(b"res master", th)
    }

    /// The PSK binder (RFC 8446 §4.2.11.2): HMAC(finished_key of the binder key, `th`),
    /// where `th` is the hash of the truncated ClientHello (after any HRR transcript).
    /// Any stage may ask: the early secret never changes.
    pub fn binder(&self, th: &[u8], external: bool) -> Result<Vec<u8>, KdfError> {
        let h = self.suite.hash;
        let label: &[u8] = if external {
            b"ext binder"
        } else {
            b"res binder"
        };
        let binder_key = derive_secret(h, &self.early_secret, label, &self.empty_hash())?;
        let finished_key = hkdf_expand_label(h, &binder_key, b"finished", b"", h.output_len())?;
        Ok(hmac(h, &finished_key, th))
    }
}

/// The PSK a ticket stands for (RFC 8446 §4.6.1):
/// HKDF-Expand-Label(resumption_master_secret, "resumption", ticket_nonce, Hash.length).
pub fn tls13_resumption_psk(
    suite: &Suite,
    resumption_master_secret: &[u8],
    ticket_nonce: &[u8],
) -> Result<Vec<u8>, KdfError> {
    if suite.version != Version::Tls13 {
        return Err(KdfError::Version("a TLS 1.3 suite is needed"));
    }
    hkdf_expand_label(
        suite.hash,
        resumption_master_secret,
        b"resumption",
        ticket_nonce,
        suite.hash.output_len(),
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::suites::by_name;

    /// Hex to bytes, for the vectors of every module's tests.
    pub(crate) fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn rfc5869_a1() {
        let ikm = unhex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b");
        let salt = unhex("000102030405060708090a0b0c");
        let info = unhex("f0f1f2f3f4f5f6f7f8f9");
        let prk = hkdf_extract(Hash::Sha256, &salt, &ikm);
        assert_eq!(
            prk,
            unhex("077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5")
        );
        let okm = hkdf_expand(Hash::Sha256, &prk, &info, 42).unwrap();
        assert_eq!(
            okm,
            unhex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865")
        );
    }

    #[test]
    fn rfc8448_early_secret_and_order() {
        let suite = by_name("TLS_AES_128_GCM_SHA256").unwrap();
        let mut ks = KeySchedule::new(suite, None).unwrap();
        assert_eq!(
            ks.early_secret,
            unhex("33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a")
        );
        assert!(ks.application_stage(&[0; 32]).is_err());
        ks.handshake_stage(&[1; 32], &[0; 32]).unwrap();
        assert!(ks.handshake_stage(&[1; 32], &[0; 32]).is_err());
        assert!(ks.exporter_master_secret(&[0; 32]).is_err());
        ks.application_stage(&[0; 32]).unwrap();
        assert!(ks.application_stage(&[0; 32]).is_err());
        assert!(ks.resumption_master_secret(&[0; 32]).is_ok());
    }

    #[test]
    fn rfc8448_resumption_psk_and_binder() {
        let suite = by_name("TLS_AES_128_GCM_SHA256").unwrap();
        let rms = unhex("7df235f2031d2a051287d02b0241b0bfdaf86cc856231f2d5aba46c434ec196c");
        let psk = tls13_resumption_psk(suite, &rms, &[0, 0]).unwrap();
        assert_eq!(
            psk,
            unhex("4ecd0eb6ec3b4d87f5d6028f922ca4c5851a277fd41311c9e62d2c9492e1c4f3")
        );
        let ks = KeySchedule::new(suite, Some(&psk)).unwrap();
        assert_eq!(
            ks.early_secret,
            unhex("9b2188e9b2fc6d64d71dc329900e20bb41915000f678aa839cbb797cb7d8332c")
        );
        let th = unhex("63224b2e4573f2d3454ca84b9d009a04f6be9e05711a8396473aefa01e924a14");
        assert_eq!(
            ks.binder(&th, false).unwrap(),
            unhex("3add4fb2d8fdf822a0ca3cf7678ef5e88dae990141c5924d57bb6fa31b9e5f9d")
        );
        assert_ne!(
            ks.binder(&th, true).unwrap(),
            ks.binder(&th, false).unwrap()
        );
    }

    #[test]
    fn prf_ietf_sha256() {
        let out = tls12_prf(
            Hash::Sha256,
            &unhex("9bbe436ba940f017b17652849a71db35"),
            b"test label",
            &unhex("a0ba9f936cda311827a6f796ffd5198c"),
            100,
        );
        assert_eq!(&out[..16], &unhex("e3f229ba727be17b8d122620557cd453")[..]);
        assert_eq!(out.len(), 100);
    }

    #[test]
    fn expand_limits() {
        assert!(hkdf_expand(Hash::Sha256, &[0; 32], b"", 255 * 32).is_ok());
        assert!(hkdf_expand(Hash::Sha256, &[0; 32], b"", 255 * 32 + 1).is_err());
        assert!(hkdf_expand_label(Hash::Sha256, &[0; 32], &[b'a'; 250], b"", 32).is_err());
    }
}
