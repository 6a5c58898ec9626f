//! The Python `RecordCipher` class over `record::RecordProtector`.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList};

use super::args::{bytes, suite_arg, version_arg, GIL_THRESHOLD};
use super::buffers::{CBuf, WBuf};
use crate::record::{self, RecordProtector, HEADER_LEN, MAX_PLAINTEXT};
use crate::suites::Version;

/// One direction of a protected connection: seals or opens whole records and
/// keeps the sequence number.
#[pyclass(module = "tlsbench._core")]
pub struct RecordCipher {
    inner: RecordProtector,
    scratch: Vec<u8>,
}

/// An opened record's (content type, offset, length) in a packed output.
type Span = (u8, usize, usize);

fn chunks(data: &[u8], max_fragment: usize) -> std::slice::Chunks<'_, u8> {
    data.chunks(max_fragment)
}

fn check_fragment(max_fragment: usize) -> PyResult<()> {
    if !(1..=MAX_PLAINTEXT).contains(&max_fragment) {
        return Err(PyValueError::new_err(
            "max_fragment must be between 1 and 16384",
        ));
    }
    Ok(())
}

fn too_small(need: usize, have: usize) -> PyErr {
    PyValueError::new_err(format!(
        "output buffer too small: {need} bytes needed, {have} given"
    ))
}

/// Bytes `open_into` writes for `record` before it strips the type and padding.
fn cipher_len(inner: &RecordProtector, record: &[u8]) -> Result<usize, record::RecordError> {
    let (_, len) = RecordProtector::record_len(record)?;
    let v13 = usize::from(inner.version == Version::Tls13);
    Ok(len.saturating_sub(inner.overhead() - v13))
}

/// Seal `data` in records of at most `max_fragment` bytes into `out` (exactly the total).
fn seal_chunks(
    inner: &mut RecordProtector,
    content_type: u8,
    data: &[u8],
    max_fragment: usize,
    out: &mut [u8],
) -> Result<(), record::RecordError> {
    let mut at = 0;
    for c in chunks(data, max_fragment) {
        let n = inner.sealed_len(c.len(), 0);
        inner.seal_into(content_type, c, 0, &mut out[at..at + n])?;
        at += n;
    }
    Ok(())
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
        let work = |inner: &mut RecordProtector, out: &mut [u8]| {
            seal_chunks(inner, content_type, data, max_fragment, out)
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

    /// Bytes `seal_many(content_type, b"\0" * length, max_fragment)` (or `seal` with
    /// `padding`, for one record) produces: the size of the buffer `*_into` needs.
    #[pyo3(signature = (length, max_fragment=16384, padding=0))]
    fn sealed_size(&self, length: usize, max_fragment: usize, padding: usize) -> PyResult<usize> {
        check_fragment(max_fragment)?;
        let full = length / max_fragment;
        let rest = length % max_fragment;
        let mut n = full * self.inner.sealed_len(max_fragment, 0);
        if rest > 0 {
            n += self.inner.sealed_len(rest, 0);
        }
        if padding > 0 {
            n = self.inner.sealed_len(length, padding);
        }
        Ok(n)
    }

    /// Seal `data` into one record written at the start of `out`; returns bytes written.
    #[pyo3(signature = (content_type, data, out, padding=0))]
    fn seal_into(
        &mut self,
        py: Python<'_>,
        content_type: u8,
        data: CBuf,
        mut out: WBuf,
        padding: usize,
    ) -> PyResult<usize> {
        let data = data.as_bytes();
        let mut copy = Vec::new();
        let data = out.apart(data, &mut copy);
        let out = out.as_mut();
        let inner = &mut self.inner;
        let len = inner.sealed_len(data.len(), padding);
        if out.len() < len {
            return Err(too_small(len, out.len()));
        }
        let out = &mut out[..len];
        if data.len() >= GIL_THRESHOLD {
            py.detach(|| inner.seal_into(content_type, data, padding, out))?;
        } else {
            inner.seal_into(content_type, data, padding, out)?;
        }
        Ok(len)
    }

    /// `seal_many` written at the start of `out`; returns bytes written.
    #[pyo3(signature = (content_type, data, out, max_fragment=16384))]
    fn seal_many_into(
        &mut self,
        py: Python<'_>,
        content_type: u8,
        data: CBuf,
        mut out: WBuf,
        max_fragment: usize,
    ) -> PyResult<usize> {
        check_fragment(max_fragment)?;
        let data = data.as_bytes();
        let mut copy = Vec::new();
        let data = out.apart(data, &mut copy);
        let out = out.as_mut();
        let inner = &mut self.inner;
        let total: usize = chunks(data, max_fragment)
            .map(|c| inner.sealed_len(c.len(), 0))
            .sum();
        if out.len() < total {
            return Err(too_small(total, out.len()));
        }
        let out = &mut out[..total];
        if data.len() >= GIL_THRESHOLD {
            py.detach(|| seal_chunks(inner, content_type, data, max_fragment, out))?;
        } else {
            seal_chunks(inner, content_type, data, max_fragment, out)?;
        }
        Ok(total)
    }

    /// Open one whole record, its plaintext written at the start of `out`:
    /// (content type, plaintext length). `out` needs the record's length less its overhead
    /// (plus one in TLS 1.3, for the type byte and any padding).
    fn open_into(&mut self, py: Python<'_>, record: CBuf, mut out: WBuf) -> PyResult<(u8, usize)> {
        let record = record.as_bytes();
        let mut copy = Vec::new();
        let record = out.apart(record, &mut copy);
        let out = out.as_mut();
        let need = cipher_len(&self.inner, record)?;
        if out.len() < need {
            return Err(too_small(need, out.len()));
        }
        let inner = &mut self.inner;
        let r = if record.len() >= GIL_THRESHOLD {
            py.detach(|| inner.open_into(record, out))?
        } else {
            inner.open_into(record, out)?
        };
        Ok(r)
    }

    /// Open a buffer of whole records, their plaintexts packed one after another into
    /// `out`: [(content type, offset, length), ...].
    fn open_many_into(
        &mut self,
        py: Python<'_>,
        records: CBuf,
        mut out: WBuf,
    ) -> PyResult<Vec<Span>> {
        let buf = records.as_bytes();
        let mut copy = Vec::new();
        let buf = out.apart(buf, &mut copy);
        let out = out.as_mut();
        // Each TLS 1.3 plaintext is at least a byte shorter than its ciphertext (the type
        // byte), and the next is packed over that byte: one spare byte covers the last.
        let v13 = usize::from(self.inner.version == Version::Tls13);
        let (mut need, mut count) = (0usize, 0usize);
        for rec in record::split_records(buf) {
            need += cipher_len(&self.inner, rec?)?;
            count += 1;
        }
        // Saturating: a record shorter than its overhead is refused by the open below.
        let need = need.saturating_sub(v13 * count.saturating_sub(1));
        if out.len() < need {
            return Err(too_small(need, out.len()));
        }
        let inner = &mut self.inner;
        let mut work = |inner: &mut RecordProtector| -> Result<_, record::RecordError> {
            let mut res = Vec::new();
            let mut at = 0;
            for rec in record::split_records(buf) {
                let (t, n) = inner.open_into(rec?, &mut out[at..])?;
                res.push((t, at, n));
                at += n;
            }
            Ok(res)
        };
        let res = if buf.len() >= GIL_THRESHOLD {
            py.detach(|| work(inner))?
        } else {
            work(inner)?
        };
        Ok(res)
    }

    /// Open a buffer of whole records into one new bytes object, their plaintexts packed
    /// one after another: (plaintexts, [(content type, offset, length), ...]).
    fn open_many_packed<'py>(
        &mut self,
        py: Python<'py>,
        records: CBuf,
    ) -> PyResult<(Bound<'py, PyBytes>, Vec<Span>)> {
        let buf = records.as_bytes();
        // The packed size if no TLS 1.3 record is padded (TLS 1.2: always): each record's
        // plaintext less its type byte.
        let v13 = usize::from(self.inner.version == Version::Tls13);
        let mut size = 0usize;
        for rec in record::split_records(buf) {
            // Saturating: a record shorter than its overhead is refused by the open below.
            size += cipher_len(&self.inner, rec?)?.saturating_sub(v13);
        }
        let (inner, scratch) = (&mut self.inner, &mut self.scratch);
        let mut spans = Vec::new();
        let mut packed = 0;
        let plain = PyBytes::new_with(py, size, |out| {
            let mut work = || -> Result<(), record::RecordError> {
                for rec in record::split_records(buf) {
                    let rec = rec?;
                    let need = cipher_len(inner, rec)?;
                    let (t, n) = if out.len() - packed >= need {
                        inner.open_into(rec, &mut out[packed..])?
                    } else {
                        // No room for the last record's type byte (and padding): it is
                        // opened aside and its plaintext copied in.
                        scratch.resize(need, 0);
                        let (t, n) = inner.open_into(rec, scratch)?;
                        out[packed..packed + n].copy_from_slice(&scratch[..n]);
                        (t, n)
                    };
                    spans.push((t, packed, n));
                    packed += n;
                }
                Ok(())
            };
            if buf.len() >= GIL_THRESHOLD {
                py.detach(work)?;
            } else {
                work()?;
            }
            Ok(())
        })?;
        if packed == size {
            return Ok((plain, spans));
        }
        // Padded records left bytes over: the plaintexts alone, in an object of their size.
        Ok((PyBytes::new(py, &plain.as_bytes()[..packed]), spans))
    }
}
