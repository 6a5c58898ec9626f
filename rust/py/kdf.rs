//! Python functions of key derivation: TLS 1.2 PRF and secrets, HMAC, HKDF, TLS 1.3 derivations.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple};

use super::args::{bytes, hash_arg, suite_arg};
use super::buffers::CBuf;
use crate::kdf;

/// TLS 1.2 PRF: P_hash(secret, label || seed), `length` bytes (RFC 5246 §5).
#[pyfunction]
pub fn tls12_prf<'py>(
    py: Python<'py>,
    hash: &str,
    secret: CBuf,
    label: CBuf,
    seed: CBuf,
    length: usize,
) -> PyResult<Bound<'py, PyBytes>> {
    let h = hash_arg(hash)?;
    PyBytes::new_with(py, length, |out| {
        kdf::p_hash(h, secret.as_bytes(), label.as_bytes(), seed.as_bytes(), out);
        Ok(())
    })
}

/// The 48-byte master secret from the pre-master secret and both randoms.
#[pyfunction]
pub fn tls12_master_secret<'py>(
    py: Python<'py>,
    hash: &str,
    pre_master_secret: CBuf,
    client_random: CBuf,
    server_random: CBuf,
) -> PyResult<Bound<'py, PyBytes>> {
    let ms = kdf::tls12_master_secret(
        hash_arg(hash)?,
        pre_master_secret.as_bytes(),
        client_random.as_bytes(),
        server_random.as_bytes(),
    );
    Ok(bytes(py, &ms))
}

/// The RFC 7627 extended master secret from the pre-master secret and the session hash.
#[pyfunction]
pub fn tls12_extended_master_secret<'py>(
    py: Python<'py>,
    hash: &str,
    pre_master_secret: CBuf,
    session_hash: CBuf,
) -> PyResult<Bound<'py, PyBytes>> {
    let ms = kdf::tls12_extended_master_secret(
        hash_arg(hash)?,
        pre_master_secret.as_bytes(),
        session_hash.as_bytes(),
    );
    Ok(bytes(py, &ms))
}

/// The key block of a TLS 1.2 AEAD suite: (client_key, server_key, client_iv, server_iv).
#[pyfunction]
pub fn tls12_key_block<'py>(
    py: Python<'py>,
    suite: &Bound<'py, PyAny>,
    master_secret: CBuf,
    client_random: CBuf,
    server_random: CBuf,
) -> PyResult<Bound<'py, PyTuple>> {
    let k = kdf::tls12_key_block(
        suite_arg(suite)?,
        master_secret.as_bytes(),
        client_random.as_bytes(),
        server_random.as_bytes(),
    )?;
    PyTuple::new(
        py,
        [
            bytes(py, &k.client_key),
            bytes(py, &k.server_key),
            bytes(py, &k.client_iv),
            bytes(py, &k.server_iv),
        ],
    )
}

/// Finished.verify_data: 12 bytes of PRF(master_secret, label, handshake_hash).
#[pyfunction]
pub fn tls12_verify_data<'py>(
    py: Python<'py>,
    hash: &str,
    master_secret: CBuf,
    label: CBuf,
    handshake_hash: CBuf,
) -> PyResult<Bound<'py, PyBytes>> {
    let vd = kdf::tls12_verify_data(
        hash_arg(hash)?,
        master_secret.as_bytes(),
        label.as_bytes(),
        handshake_hash.as_bytes(),
    );
    Ok(bytes(py, &vd))
}

/// HMAC(key, data).
#[pyfunction]
pub fn hmac<'py>(
    py: Python<'py>,
    hash: &str,
    key: CBuf,
    data: CBuf,
) -> PyResult<Bound<'py, PyBytes>> {
    Ok(bytes(
        py,
        &kdf::hmac(hash_arg(hash)?, key.as_bytes(), data.as_bytes()),
    ))
}

/// HKDF-Extract(salt, ikm) (RFC 5869 §2.2).
#[pyfunction]
pub fn hkdf_extract<'py>(
    py: Python<'py>,
    hash: &str,
    salt: CBuf,
    ikm: CBuf,
) -> PyResult<Bound<'py, PyBytes>> {
    Ok(bytes(
        py,
        &kdf::hkdf_extract(hash_arg(hash)?, salt.as_bytes(), ikm.as_bytes()),
    ))
}

/// HKDF-Expand(prk, info, length) (RFC 5869 §2.3).
#[pyfunction]
pub fn hkdf_expand<'py>(
    py: Python<'py>,
    hash: &str,
    prk: CBuf,
    info: CBuf,
    length: usize,
) -> PyResult<Bound<'py, PyBytes>> {
    Ok(bytes(
        py,
        &kdf::hkdf_expand(hash_arg(hash)?, prk.as_bytes(), info.as_bytes(), length)?,
    ))
}

/// HKDF-Expand-Label(secret, label, context, length); `label` without "tls13 ".
#[pyfunction]
pub fn hkdf_expand_label<'py>(
    py: Python<'py>,
    hash: &str,
    secret: CBuf,
    label: CBuf,
    context: CBuf,
    length: usize,
) -> PyResult<Bound<'py, PyBytes>> {
    Ok(bytes(
        py,
        &kdf::hkdf_expand_label(
            hash_arg(hash)?,
            secret.as_bytes(),
            label.as_bytes(),
            context.as_bytes(),
            length,
        )?,
    ))
}

/// Derive-Secret(secret, label, messages), given the transcript hash of the messages.
#[pyfunction]
pub fn derive_secret<'py>(
    py: Python<'py>,
    hash: &str,
    secret: CBuf,
    label: CBuf,
    transcript_hash: CBuf,
) -> PyResult<Bound<'py, PyBytes>> {
    Ok(bytes(
        py,
        &kdf::derive_secret(
            hash_arg(hash)?,
            secret.as_bytes(),
            label.as_bytes(),
            transcript_hash.as_bytes(),
        )?,
    ))
}

/// (key, iv) for a TLS 1.3 traffic secret (RFC 8446 §7.3).
#[pyfunction]
pub fn tls13_traffic_keys<'py>(
    py: Python<'py>,
    suite: &Bound<'py, PyAny>,
    secret: CBuf,
) -> PyResult<Bound<'py, PyTuple>> {
    let (key, iv) = kdf::tls13_traffic_keys(suite_arg(suite)?, secret.as_bytes())?;
    PyTuple::new(py, [bytes(py, &key), bytes(py, &iv)])
}

/// The next application traffic secret, for KeyUpdate (RFC 8446 §7.2).
#[pyfunction]
pub fn tls13_next_secret<'py>(
    py: Python<'py>,
    suite: &Bound<'py, PyAny>,
    secret: CBuf,
) -> PyResult<Bound<'py, PyBytes>> {
    Ok(bytes(
        py,
        &kdf::tls13_next_secret(suite_arg(suite)?, secret.as_bytes())?,
    ))
}

/// Finished.verify_data = HMAC(finished_key, transcript_hash) (RFC 8446 §4.4.4).
#[pyfunction]
pub fn tls13_verify_data<'py>(
    py: Python<'py>,
    hash: &str,
    finished_key: CBuf,
    transcript_hash: CBuf,
) -> PyResult<Bound<'py, PyBytes>> {
    Ok(bytes(
        py,
        &kdf::hmac(
            hash_arg(hash)?,
            finished_key.as_bytes(),
            transcript_hash.as_bytes(),
        ),
    ))
}

/// The PSK of a ticket: HKDF-Expand-Label(resumption_master_secret, "resumption", nonce, Hash.length).
#[pyfunction]
pub fn tls13_resumption_psk<'py>(
    py: Python<'py>,
    suite: &Bound<'py, PyAny>,
    resumption_master_secret: CBuf,
    ticket_nonce: CBuf,
) -> PyResult<Bound<'py, PyBytes>> {
    Ok(bytes(
        py,
        &kdf::tls13_resumption_psk(
            suite_arg(suite)?,
            resumption_master_secret.as_bytes(),
            ticket_nonce.as_bytes(),
        )?,
    ))
}
