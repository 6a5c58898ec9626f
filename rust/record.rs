//! Record protection for TLS 1.2 AEAD suites (RFC 5288, RFC 7905) and TLS 1.3
//! (RFC 8446 §5.2–5.3). Every call works on whole records, header included.

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey};

use crate::suites::{Aead, Suite, Version};

pub const HEADER_LEN: usize = 5;
pub const TAG_LEN: usize = 16;
/// RFC 8446 §5.1: plaintext fragments are at most 2^14 bytes.
pub const MAX_PLAINTEXT: usize = 1 << 14;
/// RFC 8446 §5.2: ciphertext is at most 2^14 + 256 bytes.
pub const MAX_CIPHERTEXT: usize = MAX_PLAINTEXT + 256;
const APPLICATION_DATA: u8 = 23;
const LEGACY_VERSION: [u8; 2] = [0x03, 0x03];

/// Why a record was refused. The Python glue maps each to a typed exception.
#[derive(Debug, PartialEq, Eq)]
pub enum RecordError {
    BadRecordMac,
    Overflow(&'static str),
    Truncated(&'static str),
    MissingContentType,
    SequenceOverflow,
    Argument(String),
}

/// One direction of a connection: key, IV and the next sequence number.
pub struct RecordProtector {
    key: LessSafeKey,
    iv: [u8; 12],
    pub suite: &'static Suite,
    pub version: Version,
    pub sequence: u64,
}

impl RecordProtector {
    pub fn new(
        version: Version,
        suite: &'static Suite,
        key: &[u8],
        iv: &[u8],
        sequence: u64,
    ) -> Result<Self, RecordError> {
        if suite.version != version {
            return Err(RecordError::Argument(format!(
                "{} is not a TLS {} suite",
                suite.name,
                version_str(version)
            )));
        }
        if key.len() != suite.aead.key_len() {
            return Err(RecordError::Argument(format!(
                "{} needs a {}-byte key",
                suite.name,
                suite.aead.key_len()
            )));
        }
        if iv.len() != suite.iv_len() {
            return Err(RecordError::Argument(format!(
                "{} needs a {}-byte IV",
                suite.name,
                suite.iv_len()
            )));
        }
        let unbound = UnboundKey::new(suite.aead.algorithm(), key)
            .map_err(|_| RecordError::Argument("bad key".into()))?;
        let mut full_iv = [0u8; 12];
        full_iv[..iv.len()].copy_from_slice(iv);
        Ok(RecordProtector {
            key: LessSafeKey::new(unbound),
            iv: full_iv,
            suite,
            version,
            sequence,
        })
    }

    /// TLS 1.2 AES-GCM carries an 8-byte explicit nonce before the ciphertext.
    fn explicit_nonce_len(&self) -> usize {
        match (self.version, self.suite.aead) {
            (Version::Tls12, Aead::Aes128Gcm | Aead::Aes256Gcm) => 8,
            _ => 0,
        }
    }

    /// The bytes a record adds to its content: header, explicit nonce, tag (and TLS 1.3's type byte).
    pub fn overhead(&self) -> usize {
        HEADER_LEN
            + self.explicit_nonce_len()
            + TAG_LEN
            + usize::from(self.version == Version::Tls13)
    }

    /// Length of the record that `seal_into` writes for `len` bytes of content.
    pub fn sealed_len(&self, len: usize, padding: usize) -> usize {
        len + padding + self.overhead()
    }

    fn nonce(&self, seq: u64) -> Nonce {
        let mut n = self.iv;
        match self.explicit_nonce_len() {
            // RFC 5288 §3: salt || explicit nonce, and we send the sequence number.
            8 => n[4..].copy_from_slice(&seq.to_be_bytes()),
            // RFC 7905 §2, RFC 8446 §5.3: IV XOR left-padded sequence number.
            _ => {
                for (b, s) in n[4..].iter_mut().zip(seq.to_be_bytes()) {
                    *b ^= s;
                }
            }
        }
        Nonce::assume_unique_for_key(n)
    }

    fn take_sequence(&mut self) -> Result<u64, RecordError> {
        // rustls's rule too: never use the last value, so the counter cannot wrap.
        if self.sequence == u64::MAX {
            return Err(RecordError::SequenceOverflow);
        }
        let s = self.sequence;
        self.sequence += 1;
        Ok(s)
    }

    /// Seal `data` into one record written to `out` (exactly `sealed_len` bytes).
    pub fn seal_into(
        &mut self,
        content_type: u8,
        data: &[u8],
        padding: usize,
        out: &mut [u8],
    ) -> Result<(), RecordError> {
        if data.len() > MAX_PLAINTEXT {
            return Err(RecordError::Overflow("plaintext longer than 2^14 bytes"));
        }
        if self.version == Version::Tls12 && padding != 0 {
            return Err(RecordError::Argument("padding is a TLS 1.3 feature".into()));
        }
        let total = self.sealed_len(data.len(), padding);
        if self.version == Version::Tls13 && data.len() + 1 + padding > MAX_PLAINTEXT + 1 {
            return Err(RecordError::Overflow(
                "TLSInnerPlaintext longer than 2^14 + 1 bytes",
            ));
        }
        debug_assert_eq!(out.len(), total);
        let seq = self.take_sequence()?;
        let nonce = self.nonce(seq);
        let body_len = (total - HEADER_LEN) as u16;
        let (header, body) = out.split_at_mut(HEADER_LEN);
        match self.version {
            Version::Tls13 => {
                header.copy_from_slice(&[
                    APPLICATION_DATA,
                    3,
                    3,
                    (body_len >> 8) as u8,
                    body_len as u8,
                ]);
                let (ct, extra_and_tag) = body.split_at_mut(data.len());
                // TLSInnerPlaintext: content || type || zeros (RFC 8446 §5.2)
                let mut extra = [0u8; 257];
                let extra_len = 1 + padding;
                let mut heap;
                let extra_in: &[u8] = if extra_len <= extra.len() {
                    extra[0] = content_type;
                    &extra[..extra_len]
                } else {
                    heap = vec![0u8; extra_len];
                    heap[0] = content_type;
                    &heap
                };
                self.key
                    .seal_out_of_place_scatter(
                        nonce,
                        Aad::from(&*header),
                        data,
                        ct,
                        extra_in,
                        extra_and_tag,
                    )
                    .map_err(|_| RecordError::Argument("seal failed".into()))
            }
            Version::Tls12 => {
                header.copy_from_slice(&[
                    content_type,
                    3,
                    3,
                    (body_len >> 8) as u8,
                    body_len as u8,
                ]);
                let explicit = self.explicit_nonce_len();
                body[..explicit].copy_from_slice(&seq.to_be_bytes()[..explicit]);
                let aad = tls12_aad(seq, content_type, LEGACY_VERSION, data.len());
                let (ct, tag) = body[explicit..].split_at_mut(data.len());
                self.key
                    .seal_out_of_place_scatter(nonce, Aad::from(aad), data, ct, &[], tag)
                    .map_err(|_| RecordError::Argument("seal failed".into()))
            }
        }
    }

    /// Read a record's header: (content type, whole record length).
    pub fn record_len(buf: &[u8]) -> Result<(u8, usize), RecordError> {
        if buf.len() < HEADER_LEN {
            return Err(RecordError::Truncated("record shorter than its header"));
        }
        let len = u16::from_be_bytes([buf[3], buf[4]]) as usize;
        if len > MAX_CIPHERTEXT {
            return Err(RecordError::Overflow(
                "ciphertext longer than 2^14 + 256 bytes",
            ));
        }
        if buf.len() < HEADER_LEN + len {
            return Err(RecordError::Truncated(
                "record shorter than its header says",
            ));
        }
        Ok((buf[0], HEADER_LEN + len))
    }

    /// Open one whole record into `out` (at least the record's length).
    /// Returns the content type and the plaintext length written to `out`.
    pub fn open_into(&mut self, record: &[u8], out: &mut [u8]) -> Result<(u8, usize), RecordError> {
        let (outer_type, len) = Self::record_len(record)?;
        if len != record.len() {
            return Err(RecordError::Truncated("trailing bytes after the record"));
        }
        let explicit = self.explicit_nonce_len();
        let body = &record[HEADER_LEN..];
        let min = explicit + TAG_LEN + usize::from(self.version == Version::Tls13);
        if body.len() < min {
            return Err(RecordError::Truncated(
                "record shorter than its cipher's overhead",
            ));
        }
        let (ct, tag) = body[explicit..].split_at(body.len() - explicit - TAG_LEN);
        let plain = &mut out[..ct.len()];
        if self.sequence == u64::MAX {
            return Err(RecordError::SequenceOverflow);
        }
        let seq = self.sequence;
        match self.version {
            Version::Tls13 => {
                let nonce = self.nonce(seq);
                self.key
                    .open_separate_gather(nonce, Aad::from(&record[..HEADER_LEN]), ct, tag, plain)
                    .map_err(|_| RecordError::BadRecordMac)?;
                self.sequence += 1;
                if plain.len() > MAX_PLAINTEXT + 1 {
                    return Err(RecordError::Overflow(
                        "TLSInnerPlaintext longer than 2^14 + 1 bytes",
                    ));
                }
                // Strip zero padding; the last non-zero byte is the real type.
                match plain.iter().rposition(|&b| b != 0) {
                    None => Err(RecordError::MissingContentType),
                    Some(i) => Ok((plain[i], i)),
                }
            }
            Version::Tls12 => {
                let mut nonce_bytes = self.iv;
                if explicit == 8 {
                    nonce_bytes[4..].copy_from_slice(&body[..8]);
                } else {
                    for (b, s) in nonce_bytes[4..].iter_mut().zip(seq.to_be_bytes()) {
                        *b ^= s;
                    }
                }
                let aad = tls12_aad(seq, outer_type, [record[1], record[2]], ct.len());
                self.key
                    .open_separate_gather(
                        Nonce::assume_unique_for_key(nonce_bytes),
                        Aad::from(aad),
                        ct,
                        tag,
                        plain,
                    )
                    .map_err(|_| RecordError::BadRecordMac)?;
                self.sequence += 1;
                if ct.len() > MAX_PLAINTEXT {
                    return Err(RecordError::Overflow("plaintext longer than 2^14 bytes"));
                }
                Ok((outer_type, ct.len()))
            }
        }
    }
}

/// Split a buffer of whole records into records, in order; a partial record at the end
/// is an error, as is a length over the ciphertext limit.
pub fn split_records(buf: &[u8]) -> impl Iterator<Item = Result<&[u8], RecordError>> {
    let mut at = 0;
    std::iter::from_fn(move || {
        if at >= buf.len() {
            return None;
        }
        match RecordProtector::record_len(&buf[at..]) {
            Ok((_, len)) => {
                let rec = &buf[at..at + len];
                at += len;
                Some(Ok(rec))
            }
            Err(e) => {
                at = buf.len();
                Some(Err(e))
            }
        }
    })
}

/// RFC 5246 §6.2.3.3: seq_num || type || version || length.
fn tls12_aad(seq: u64, content_type: u8, version: [u8; 2], len: usize) -> [u8; 13] {
    let mut aad = [0u8; 13];
    aad[..8].copy_from_slice(&seq.to_be_bytes());
    aad[8] = content_type;
    aad[9..11].copy_from_slice(&version);
    aad[11..].copy_from_slice(&(len as u16).to_be_bytes());
    aad
}

pub fn version_str(v: Version) -> &'static str {
    match v {
        Version::Tls12 => "1.2",
        Version::Tls13 => "1.3",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suites::{by_name, SUITES};

    fn pair(suite: &'static Suite) -> (RecordProtector, RecordProtector) {
        let key = vec![7u8; suite.aead.key_len()];
        let iv = vec![9u8; suite.iv_len()];
        (
            RecordProtector::new(suite.version, suite, &key, &iv, 0).unwrap(),
            RecordProtector::new(suite.version, suite, &key, &iv, 0).unwrap(),
        )
    }

    #[test]
    fn round_trip_every_suite() {
        for suite in SUITES {
            let (mut tx, mut rx) = pair(suite);
            for len in [0usize, 1, 100, MAX_PLAINTEXT] {
                let data = vec![0xab; len];
                let mut rec = vec![0u8; tx.sealed_len(len, 0)];
                tx.seal_into(22, &data, 0, &mut rec).unwrap();
                let mut out = vec![0u8; rec.len()];
                let (t, n) = rx.open_into(&rec, &mut out).unwrap();
                assert_eq!((t, &out[..n]), (22, &data[..]));
            }
            assert_eq!(tx.sequence, 4);
        }
    }

    #[test]
    fn tamper_truncate_overflow() {
        let suite = by_name("TLS_AES_128_GCM_SHA256").unwrap();
        let (mut tx, mut rx) = pair(suite);
        let mut rec = vec![0u8; tx.sealed_len(10, 3)];
        tx.seal_into(23, b"0123456789", 3, &mut rec).unwrap();
        let mut out = vec![0u8; rec.len()];
        let mut bad = rec.clone();
        bad[7] ^= 1;
        assert_eq!(rx.open_into(&bad, &mut out), Err(RecordError::BadRecordMac));
        assert!(matches!(
            rx.open_into(&rec[..rec.len() - 1], &mut out),
            Err(RecordError::Truncated(_))
        ));
        assert_eq!(rx.open_into(&rec, &mut out), Ok((23, 10)));
        let mut big = vec![0u8; MAX_PLAINTEXT + 1 + 1000];
        assert!(matches!(
            tx.seal_into(23, &vec![0; MAX_PLAINTEXT + 1], 0, &mut big),
            Err(RecordError::Overflow(_))
        ));
    }

    #[test]
    fn sequence_refuses_to_wrap() {
        let suite = by_name("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256").unwrap();
        let mut tx =
            RecordProtector::new(Version::Tls12, suite, &[0; 16], &[0; 4], u64::MAX - 1).unwrap();
        let mut rec = vec![0u8; tx.sealed_len(1, 0)];
        tx.seal_into(23, b"x", 0, &mut rec).unwrap();
        assert_eq!(
            tx.seal_into(23, b"x", 0, &mut rec),
            Err(RecordError::SequenceOverflow)
        );
    }
}

/// Property tests over arbitrary and mutated input: opening never panics, never
/// accepts a changed record, and framing splits exactly what was sealed.
#[cfg(test)]
mod fuzz {
    use super::*;
    use crate::suites::SUITES;
    use proptest::prelude::*;

    fn suite() -> impl Strategy<Value = &'static Suite> {
        (0..SUITES.len()).prop_map(|i| &SUITES[i])
    }

    fn pair(suite: &'static Suite, seq: u64) -> (RecordProtector, RecordProtector) {
        let key = vec![3u8; suite.aead.key_len()];
        let iv = vec![5u8; suite.iv_len()];
        (
            RecordProtector::new(suite.version, suite, &key, &iv, seq).unwrap(),
            RecordProtector::new(suite.version, suite, &key, &iv, seq).unwrap(),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_bytes_never_panic(suite in suite(), buf in proptest::collection::vec(any::<u8>(), 0..600)) {
            let (_, mut rx) = pair(suite, 0);
            let mut out = vec![0u8; HEADER_LEN + MAX_CIPHERTEXT];
            for rec in split_records(&buf) {
                match rec {
                    Ok(r) => { let _ = rx.open_into(r, &mut out); }
                    Err(_) => break,
                }
            }
            let _ = rx.open_into(&buf, &mut out);
        }

        #[test]
        fn mutated_records_are_refused(
            suite in suite(),
            data in proptest::collection::vec(any::<u8>(), 0..300),
            seq in 0u64..u64::MAX - 1,
            pos in any::<usize>(),
            flip in 1u8..=255,
        ) {
            let (mut tx, mut rx) = pair(suite, seq);
            let mut rec = vec![0u8; tx.sealed_len(data.len(), 0)];
            tx.seal_into(23, &data, 0, &mut rec).unwrap();
            let i = pos % rec.len();
            rec[i] ^= flip;
            let mut out = vec![0u8; HEADER_LEN + MAX_CIPHERTEXT];
            prop_assert!(rx.open_into(&rec, &mut out).is_err());
            prop_assert_eq!(rx.sequence, seq, "a refused record must not consume a sequence number");
        }

        #[test]
        fn sealed_buffers_split_and_open(
            suite in suite(),
            sizes in proptest::collection::vec(0usize..2000, 1..8),
            cut in any::<usize>(),
        ) {
            let (mut tx, mut rx) = pair(suite, 7);
            let mut buf = Vec::new();
            for (i, n) in sizes.iter().enumerate() {
                let mut rec = vec![0u8; tx.sealed_len(*n, 0)];
                tx.seal_into(23, &vec![i as u8; *n], 0, &mut rec).unwrap();
                buf.extend_from_slice(&rec);
            }
            let mut out = vec![0u8; HEADER_LEN + MAX_CIPHERTEXT];
            let recs: Vec<_> = split_records(&buf).collect::<Result<_, _>>().unwrap();
            prop_assert_eq!(recs.len(), sizes.len());
            for (i, r) in recs.iter().enumerate() {
                let (t, n) = rx.open_into(r, &mut out).unwrap();
                prop_assert_eq!(t, 23);
                prop_assert!(out[..n].iter().all(|&b| b == i as u8));
                prop_assert_eq!(n, sizes[i]);
            }
            // Any cut inside the buffer leaves a partial record: an error, never a panic.
            let cut = cut % buf.len();
            if cut > 0 && !recs.iter().scan(0, |a, r| { *a += r.len(); Some(*a) }).any(|e| e == cut) {
                prop_assert!(split_records(&buf[..cut]).any(|r| r.is_err()));
            }
        }
    }
}
