//! Mapping of core failures onto the Python exceptions of `tlsbench.errors`.

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::PyErr;

use crate::kdf::KdfError;
use crate::record::RecordError;

pyo3::import_exception!(tlsbench.errors, BadRecordMac);
pyo3::import_exception!(tlsbench.errors, RecordOverflow);
pyo3::import_exception!(tlsbench.errors, TruncatedRecord);
pyo3::import_exception!(tlsbench.errors, MissingContentType);
pyo3::import_exception!(tlsbench.errors, SequenceOverflow);

impl From<RecordError> for PyErr {
    fn from(e: RecordError) -> PyErr {
        match e {
            RecordError::BadRecordMac => BadRecordMac::new_err(()),
            RecordError::Overflow(m) => RecordOverflow::new_err(m),
            RecordError::Truncated(m) => TruncatedRecord::new_err(m),
            RecordError::MissingContentType => {
                MissingContentType::new_err("no content type in TLSInnerPlaintext")
            }
            RecordError::SequenceOverflow => {
                SequenceOverflow::new_err("sequence number exhausted; update the keys")
            }
            RecordError::Argument(m) => PyValueError::new_err(m),
        }
    }
}

impl From<KdfError> for PyErr {
    fn from(e: KdfError) -> PyErr {
        match e {
            KdfError::Length(m) | KdfError::Version(m) => PyValueError::new_err(m),
            KdfError::Order(m) => PyRuntimeError::new_err(m),
        }
    }
}
