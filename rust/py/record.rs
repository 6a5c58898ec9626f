//! The Python `RecordCipher` class over `record::RecordProtector`.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList};

use super::args::{bytes, suite_arg, version_arg, GIL_THRESHOLD};
use super::buffers::CBuf;
use crate::record::{self, RecordProtector, HEADER_LEN, MAX_PLAINTEXT};

/// One direction of a protected connection: seals or opens whole records and
/// keeps the sequence number.
#[pyclass(module = "tlsbench._core")]
pub struct RecordCipher {
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
