//! `tlsbench._core`: TLS key derivation and record protection, for Python.
//!
//! The logic lives in plain Rust modules (`kdf`, `record`, `suites`); this file
//! is the Python glue: argument conversion, GIL handling and result objects.

mod buffers;
mod errors;
pub mod kdf;
pub mod record;
pub mod suites;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyTuple};

use buffers::CBuf;
use record::{RecordProtector, HEADER_LEN, MAX_PLAINTEXT};
use suites::{Aead, Hash, Suite, Version};

/// Calls that touch at least this many bytes release the GIL; below it the
/// cost of detaching and re-attaching outweighs what other threads gain.
const GIL_THRESHOLD: usize = 4096;

fn hash_arg(name: &str) -> PyResult<Hash> {
    Hash::from_name(name).ok_or_else(|| {
        PyValueError::new_err(format!("unknown hash {name:?} (use 'sha256' or 'sha384')"))
    })
}

fn suite_arg(obj: &Bound<'_, PyAny>) -> PyResult<&'static Suite> {
    let found = if let Ok(code) = obj.extract::<u16>() {
        suites::by_code(code)
    } else if let Ok(name) = obj.extract::<String>() {
        suites::by_name(&name)
    } else {
        None
    };
    found.ok_or_else(|| PyValueError::new_err(format!("unsupported cipher suite {obj}")))
}

fn version_arg(obj: &Bound<'_, PyAny>) -> PyResult<Version> {
    let found = if let Ok(code) = obj.extract::<u16>() {
        Version::from_code(code)
    } else if let Ok(name) = obj.extract::<String>() {
        Version::from_name(&name)
    } else {
        None
    };
    found.ok_or_else(|| {
        PyValueError::new_err(format!(
            "unsupported TLS version {obj} (use '1.2' or '1.3')"
        ))
    })
}

fn bytes<'py>(py: Python<'py>, data: &[u8]) -> Bound<'py, PyBytes> {
    PyBytes::new(py, data)
}

/// TLS 1.2 PRF: P_hash(secret, label || seed), `length` bytes (RFC 5246 §5).
#[pyfunction]
fn tls12_prf<'py>(
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
fn tls12_master_secret<'py>(
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
fn tls12_extended_master_secret<'py>(
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
fn tls12_key_block<'py>(
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
fn tls12_verify_data<'py>(
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
fn hmac<'py>(py: Python<'py>, hash: &str, key: CBuf, data: CBuf) -> PyResult<Bound<'py, PyBytes>> {
    Ok(bytes(
        py,
        &kdf::hmac(hash_arg(hash)?, key.as_bytes(), data.as_bytes()),
    ))
}

/// HKDF-Extract(salt, ikm) (RFC 5869 §2.2).
#[pyfunction]
fn hkdf_extract<'py>(
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
fn hkdf_expand<'py>(
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
fn hkdf_expand_label<'py>(
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
fn derive_secret<'py>(
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
fn tls13_traffic_keys<'py>(
    py: Python<'py>,
    suite: &Bound<'py, PyAny>,
    secret: CBuf,
) -> PyResult<Bound<'py, PyTuple>> {
    let (key, iv) = kdf::tls13_traffic_keys(suite_arg(suite)?, secret.as_bytes())?;
    PyTuple::new(py, [bytes(py, &key), bytes(py, &iv)])
}

/// The next application traffic secret, for KeyUpdate (RFC 8446 §7.2).
#[pyfunction]
fn tls13_next_secret<'py>(
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
fn tls13_verify_data<'py>(
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

/// Secrets, keys and IVs of one TLS 1.3 stage, both directions.
#[pyclass(frozen, get_all, module = "tlsbench._core")]
struct Tls13Stage {
    client_secret: Py<PyBytes>,
    server_secret: Py<PyBytes>,
    client_key: Py<PyBytes>,
    client_iv: Py<PyBytes>,
    server_key: Py<PyBytes>,
    server_iv: Py<PyBytes>,
    client_finished_key: Py<PyBytes>,
    server_finished_key: Py<PyBytes>,
}

impl Tls13Stage {
    fn new(py: Python<'_>, s: kdf::Stage) -> Tls13Stage {
        let b = |v: &[u8]| bytes(py, v).unbind();
        Tls13Stage {
            client_secret: b(&s.client_secret),
            server_secret: b(&s.server_secret),
            client_key: b(&s.client_key),
            client_iv: b(&s.client_iv),
            server_key: b(&s.server_key),
            server_iv: b(&s.server_iv),
            client_finished_key: b(&s.client_finished_key),
            server_finished_key: b(&s.server_finished_key),
        }
    }
}

/// The TLS 1.3 key schedule (RFC 8446 §7.1); each stage is one call and stages only move forward.
#[pyclass(module = "tlsbench._core")]
struct KeySchedule {
    inner: kdf::KeySchedule,
}

#[pymethods]
impl KeySchedule {
    #[new]
    #[pyo3(signature = (suite, psk=None))]
    fn new(suite: &Bound<'_, PyAny>, psk: Option<CBuf>) -> PyResult<Self> {
        let inner = kdf::KeySchedule::new(suite_arg(suite)?, psk.as_ref().map(|p| p.as_bytes()))?;
        Ok(KeySchedule { inner })
    }

    #[getter]
    fn early_secret<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        bytes(py, &self.inner.early_secret)
    }

    #[getter]
    fn handshake_secret<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        self.inner.handshake_secret.as_deref().map(|s| bytes(py, s))
    }

    #[getter]
    fn master_secret<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        self.inner.master_secret.as_deref().map(|s| bytes(py, s))
    }

    /// Derive the handshake secret and its traffic secrets, keys, IVs and finished keys.
    fn handshake_stage(
        &mut self,
        py: Python<'_>,
        shared_secret: CBuf,
        transcript_hash: CBuf,
    ) -> PyResult<Tls13Stage> {
        let s = self
            .inner
            .handshake_stage(shared_secret.as_bytes(), transcript_hash.as_bytes())?;
        Ok(Tls13Stage::new(py, s))
    }

    /// Derive the master secret and the application traffic secrets, keys and IVs.
    fn application_stage(&mut self, py: Python<'_>, transcript_hash: CBuf) -> PyResult<Tls13Stage> {
        let s = self.inner.application_stage(transcript_hash.as_bytes())?;
        Ok(Tls13Stage::new(py, s))
    }

    /// KeyUpdate (RFC 8446 §7.2): (next traffic secret, its key, its IV) in one call.
    fn key_update<'py>(&self, py: Python<'py>, secret: CBuf) -> PyResult<Bound<'py, PyTuple>> {
        let next = kdf::tls13_next_secret(self.inner.suite, secret.as_bytes())?;
        let (key, iv) = kdf::tls13_traffic_keys(self.inner.suite, &next)?;
        PyTuple::new(py, [bytes(py, &next), bytes(py, &key), bytes(py, &iv)])
    }

    fn exporter_master_secret<'py>(
        &self,
        py: Python<'py>,
        transcript_hash: CBuf,
    ) -> PyResult<Bound<'py, PyBytes>> {
        Ok(bytes(
            py,
            &self
                .inner
                .exporter_master_secret(transcript_hash.as_bytes())?,
        ))
    }

    fn resumption_master_secret<'py>(
        &self,
        py: Python<'py>,
        transcript_hash: CBuf,
    ) -> PyResult<Bound<'py, PyBytes>> {
        Ok(bytes(
            py,
            &self
                .inner
                .resumption_master_secret(transcript_hash.as_bytes())?,
        ))
    }
}

/// A raw AEAD: `encrypt` returns ciphertext || tag; 12-byte nonces only.
#[pyclass(frozen, module = "tlsbench._core")]
struct AeadCipher {
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

/// One direction of a protected connection: seals or opens whole records and
/// keeps the sequence number.
#[pyclass(module = "tlsbench._core")]
struct RecordCipher {
    inner: RecordProtector,
    scratch: Vec<u8>,
}

fn chunks(data: &[u8], max_fragment: usize) -> std::slice::Chunks<'_, u8> {
    data.chunks(max_fragment)
}

#[pymethods]
impl RecordCipher {
    #[new]
    #[pyo3(signature = (version, suite, key, iv, sequence=0))]
    fn new(
        version: &Bound<'_, PyAny>,
        suite: &Bound<'_, PyAny>,
        key: CBuf,
        iv: CBuf,
        sequence: u64,
    ) -> PyResult<Self> {
        let inner = RecordProtector::new(
            version_arg(version)?,
            suite_arg(suite)?,
            key.as_bytes(),
            iv.as_bytes(),
            sequence,
        )?;
        Ok(RecordCipher {
            inner,
            scratch: Vec::new(),
        })
    }

    /// The sequence number of the next record.
    #[getter]
    fn sequence(&self) -> u64 {
        self.inner.sequence
    }

    #[getter]
    fn version(&self) -> u16 {
        self.inner.version.code()
    }

    #[getter]
    fn suite(&self) -> u16 {
        self.inner.suite.code
    }

    /// Bytes a record adds to its content (header, explicit nonce, tag, TLS 1.3 type byte).
    #[getter]
    fn overhead(&self) -> usize {
        self.inner.overhead()
    }

    /// Seal `data` (at most 2^14 bytes) into one record, header included.
    #[pyo3(signature = (content_type, data, padding=0))]
    fn seal<'py>(
        &mut self,
        py: Python<'py>,
        content_type: u8,
        data: CBuf,
        padding: usize,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let data = data.as_bytes();
        let inner = &mut self.inner;
        let len = inner.sealed_len(data.len(), padding);
        PyBytes::new_with(py, len, |out| {
            if data.len() >= GIL_THRESHOLD {
                py.detach(|| inner.seal_into(content_type, data, padding, out))?;
            } else {
                inner.seal_into(content_type, data, padding, out)?;
            }
            Ok(())
        })
    }

    /// Open one whole record: (content type, plaintext).
    fn open<'py>(&mut self, py: Python<'py>, record: CBuf) -> PyResult<(u8, Bound<'py, PyBytes>)> {
        let record = record.as_bytes();
        let (inner, scratch) = (&mut self.inner, &mut self.scratch);
        if scratch.len() < record.len() {
            scratch.resize(record.len(), 0);
        }
        let (t, n) = if record.len() >= GIL_THRESHOLD {
            py.detach(|| inner.open_into(record, scratch))?
        } else {
            inner.open_into(record, scratch)?
        };
        Ok((t, bytes(py, &scratch[..n])))
    }

    /// Seal a buffer of any size into records of at most `max_fragment` bytes, in one call.
    #[pyo3(signature = (content_type, data, max_fragment=16384))]
    fn seal_many<'py>(
        &mut self,
        py: Python<'py>,
        content_type: u8,
        data: CBuf,
        max_fragment: usize,
    ) -> PyResult<Bound<'py, PyBytes>> {
        if !(1..=MAX_PLAINTEXT).contains(&max_fragment) {
            return Err(PyValueError::new_err(
                "max_fragment must be between 1 and 16384",
            ));
        }
        let data = data.as_bytes();
        let inner = &mut self.inner;
        let total: usize = chunks(data, max_fragment)
            .map(|c| inner.sealed_len(c.len(), 0))
            .sum();
        let work =
            |inner: &mut RecordProtector, out: &mut [u8]| -> Result<(), record::RecordError> {
                let mut at = 0;
                for c in chunks(data, max_fragment) {
                    let n = inner.sealed_len(c.len(), 0);
                    inner.seal_into(content_type, c, 0, &mut out[at..at + n])?;
                    at += n;
                }
                Ok(())
            };
        PyBytes::new_with(py, total, |out| {
            if data.len() >= GIL_THRESHOLD {
                py.detach(|| work(inner, out))?;
            } else {
                work(inner, out)?;
            }
            Ok(())
        })
    }

    /// Open a buffer of whole records, in one call: [(content type, plaintext), ...].
    fn open_many<'py>(&mut self, py: Python<'py>, records: CBuf) -> PyResult<Bound<'py, PyList>> {
        let buf = records.as_bytes();
        let (inner, scratch) = (&mut self.inner, &mut self.scratch);
        // One record at a time through a small scratch buffer, copied out while it is
        // still in cache: faster than decrypting the whole buffer first.
        scratch.resize(HEADER_LEN + record::MAX_CIPHERTEXT, 0);
        let out = PyList::empty(py);
        for rec in record::split_records(buf) {
            let rec = rec?;
            let (t, n) = if rec.len() >= GIL_THRESHOLD {
                py.detach(|| inner.open_into(rec, scratch))?
            } else {
                inner.open_into(rec, scratch)?
            };
            out.append((t, bytes(py, &scratch[..n])))?;
        }
        Ok(out)
    }
}

/// What the core was built with: crate versions, profile and target features.
#[pyfunction]
fn build_info(py: Python<'_>) -> PyResult<Bound<'_, pyo3::types::PyDict>> {
    let d = pyo3::types::PyDict::new(py);
    d.set_item("tlsbench_core", env!("CARGO_PKG_VERSION"))?;
    d.set_item("pyo3", env!("TLSBENCH_PYO3_VERSION"))?;
    d.set_item("aws_lc_rs", env!("TLSBENCH_AWS_LC_RS_VERSION"))?;
    d.set_item("aws_lc_sys", env!("TLSBENCH_AWS_LC_SYS_VERSION"))?;
    d.set_item("rustc", env!("TLSBENCH_RUSTC_VERSION"))?;
    d.set_item("profile", env!("TLSBENCH_PROFILE"))?;
    d.set_item("target", env!("TLSBENCH_TARGET"))?;
    d.set_item("gil_threshold", GIL_THRESHOLD)?;
    Ok(d)
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(tls12_prf, m)?)?;
    m.add_function(wrap_pyfunction!(tls12_master_secret, m)?)?;
    m.add_function(wrap_pyfunction!(tls12_extended_master_secret, m)?)?;
    m.add_function(wrap_pyfunction!(tls12_key_block, m)?)?;
    m.add_function(wrap_pyfunction!(tls12_verify_data, m)?)?;
    m.add_function(wrap_pyfunction!(hmac, m)?)?;
    m.add_function(wrap_pyfunction!(hkdf_extract, m)?)?;
    m.add_function(wrap_pyfunction!(hkdf_expand, m)?)?;
    m.add_function(wrap_pyfunction!(hkdf_expand_label, m)?)?;
    m.add_function(wrap_pyfunction!(derive_secret, m)?)?;
    m.add_function(wrap_pyfunction!(tls13_traffic_keys, m)?)?;
    m.add_function(wrap_pyfunction!(tls13_next_secret, m)?)?;
    m.add_function(wrap_pyfunction!(tls13_verify_data, m)?)?;
    m.add_function(wrap_pyfunction!(build_info, m)?)?;
    m.add_class::<KeySchedule>()?;
    m.add_class::<Tls13Stage>()?;
    m.add_class::<AeadCipher>()?;
    m.add_class::<RecordCipher>()?;
    Ok(())
}
