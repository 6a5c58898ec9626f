//! The Python `AeadCipher` class: a raw AEAD over aws-lc-rs.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use super::buffers::CBuf;
use super::errors;
use crate::record;
use crate::suites::Aead;

/// A raw AEAD: `encrypt` returns ciphertext || tag; 12-byte nonces only.
#[pyclass(frozen, module = "tlsbench._core")]
pub struct AeadCipher {
    key: aws_lc_rs::aead::LessSafeKey,
}

fn nonce_arg(nonce: &[u8]) -> PyResult<aws_lc_rs::aead::Nonce> {
    aws_lc_rs::aead::Nonce::try_assume_unique_for_key(nonce)
        .map_err(|_| PyValueError::new_err("the nonce must be 12 bytes"))
}

#[pymethods]
impl AeadCipher {
    #[new]
    fn new(algorithm: &str, key: CBuf) -> PyResult<Self> {
        let aead = Aead::from_name(algorithm).ok_or_else(|| {
            PyValueError::new_err(format!(
                "unknown AEAD {algorithm:?} (AES-128-GCM, AES-256-GCM, CHACHA20-POLY1305)"
            ))
        })?;
        let unbound =
            aws_lc_rs::aead::UnboundKey::new(aead.algorithm(), key.as_bytes()).map_err(|_| {
                PyValueError::new_err(format!("{algorithm} needs a {}-byte key", aead.key_len()))
            })?;
        Ok(AeadCipher {
            key: aws_lc_rs::aead::LessSafeKey::new(unbound),
        })
    }

    fn encrypt<'py>(
        &self,
        py: Python<'py>,
        nonce: CBuf,
        data: CBuf,
        aad: CBuf,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let (n, data, aad) = (
            nonce_arg(nonce.as_bytes())?,
            data.as_bytes(),
            aad.as_bytes(),
        );
        PyBytes::new_with(py, data.len() + record::TAG_LEN, |out| {
            let (ct, tag) = out.split_at_mut(data.len());
            self.key
                .seal_out_of_place_scatter(n, aws_lc_rs::aead::Aad::from(aad), data, ct, &[], tag)
                .map_err(|_| PyValueError::new_err("encryption failed"))
        })
    }

    fn decrypt<'py>(
        &self,
        py: Python<'py>,
        nonce: CBuf,
        data: CBuf,
        aad: CBuf,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let (n, data, aad) = (
            nonce_arg(nonce.as_bytes())?,
            data.as_bytes(),
            aad.as_bytes(),
        );
        if data.len() < record::TAG_LEN {
            return Err(errors::BadRecordMac::new_err(()));
        }
        let (ct, tag) = data.split_at(data.len() - record::TAG_LEN);
        PyBytes::new_with(py, ct.len(), |out| {
            self.key
                .open_separate_gather(n, aws_lc_rs::aead::Aad::from(aad), ct, tag, out)
                .map_err(|_| errors::BadRecordMac::new_err(()))
        })
    }
}
