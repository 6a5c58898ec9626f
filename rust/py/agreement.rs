//! The Python `KeyAgreement` class: an ephemeral (EC)DH key share over aws-lc-rs.

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use super::buffers::CBuf;
use crate::agreement::{AgreementError, Group, KeyPair};

impl From<AgreementError> for PyErr {
    fn from(e: AgreementError) -> PyErr {
        match e {
            AgreementError::PrivateKey(m) | AgreementError::PeerShare(m) => {
                PyValueError::new_err(m)
            }
            AgreementError::Internal => PyRuntimeError::new_err("key generation failed"),
        }
    }
}

/// Our key of one named group (TLS code point) and its public `key_exchange` value;
/// a fresh key unless `private_key` is given.
#[pyclass(frozen, module = "tlsbench._core")]
pub struct KeyAgreement {
    pair: KeyPair,
}

#[pymethods]
impl KeyAgreement {
    #[new]
    #[pyo3(signature = (group, private_key=None))]
    fn new(group: u16, private_key: Option<CBuf>) -> PyResult<Self> {
        let group = Group::from_code(group).ok_or_else(|| {
            PyValueError::new_err(format!(
                "unsupported group {group:#06x} (x25519, secp256r1, secp384r1)"
            ))
        })?;
        let pair = match private_key {
            Some(scalar) => KeyPair::from_bytes(group, scalar.as_bytes())?,
            None => KeyPair::generate(group)?,
        };
        Ok(KeyAgreement { pair })
    }

    #[getter]
    fn group(&self) -> u16 {
        self.pair.group().code()
    }

    /// The `key_exchange` value: 32 bytes (x25519) or 0x04 || X || Y.
    #[getter]
    fn public<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.pair.public())
    }

    /// The shared secret with the peer's `key_exchange` value; ValueError if it is
    /// malformed, off the curve, or gives an all-zero secret.
    fn exchange<'py>(&self, py: Python<'py>, peer: CBuf) -> PyResult<Bound<'py, PyBytes>> {
        let peer = peer.as_bytes();
        let secret = py.detach(|| self.pair.exchange(peer))?;
        Ok(PyBytes::new(py, &secret))
    }
}
