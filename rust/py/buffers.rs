//! Read-only views of any bytes-like argument, without copying.

use pyo3::buffer::PyBuffer;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// A borrowed bytes-like argument: `bytes` directly, anything else through the
/// buffer protocol (bytearray, memoryview, array...), which must be C-contiguous.
pub enum CBuf<'a, 'py> {
    Bytes(Borrowed<'a, 'py, PyBytes>),
    Buffer(PyBuffer<u8>),
}

impl CBuf<'_, '_> {
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            CBuf::Bytes(b) => b.as_bytes(),
            // SAFETY: the buffer is held (and its exporter locked against resizing)
            // for as long as `self` lives, and it was checked to be C-contiguous.
            CBuf::Buffer(b) => unsafe {
                std::slice::from_raw_parts(b.buf_ptr() as *const u8, b.len_bytes())
            },
        }
    }
}

impl<'a, 'py> FromPyObject<'a, 'py> for CBuf<'a, 'py> {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if let Ok(b) = obj.cast::<PyBytes>() {
            return Ok(CBuf::Bytes(b));
        }
        let buf = PyBuffer::<u8>::get(&obj).map_err(|_| {
            PyTypeError::new_err(format!(
                "a bytes-like object is required, not '{}'",
                obj.get_type()
                    .name()
                    .map(|n| n.to_string())
                    .unwrap_or_default()
            ))
        })?;
        if !buf.is_c_contiguous() {
            return Err(PyTypeError::new_err("a C-contiguous buffer is required"));
        }
        Ok(CBuf::Buffer(buf))
    }
}

/// A writable, C-contiguous caller buffer (bytearray, memoryview slice...): held for
/// as long as `self` lives, so its exporter cannot be resized meanwhile.
pub struct WBuf(PyBuffer<u8>);

impl WBuf {
    /// `input`, or a copy of it in `copy` when it shares memory with this buffer (an
    /// in-place call): the core reads its input while it writes its output.
    pub fn apart<'a>(&self, input: &'a [u8], copy: &'a mut Vec<u8>) -> &'a [u8] {
        let (start, len) = (self.0.buf_ptr() as usize, self.0.len_bytes());
        let (in_start, in_len) = (input.as_ptr() as usize, input.len());
        if len > 0 && in_len > 0 && start < in_start + in_len && in_start < start + len {
            copy.extend_from_slice(input);
            return copy;
        }
        input
    }

    #[allow(clippy::mut_from_ref)]
    pub fn as_mut(&mut self) -> &mut [u8] {
        // SAFETY: checked writable and C-contiguous; the held buffer pins its memory,
        // and `&mut self` keeps this the only Rust view of it.
        unsafe { std::slice::from_raw_parts_mut(self.0.buf_ptr() as *mut u8, self.0.len_bytes()) }
    }
}

impl<'a, 'py> FromPyObject<'a, 'py> for WBuf {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let buf = PyBuffer::<u8>::get(&obj)
            .map_err(|_| PyTypeError::new_err("a writable bytes-like object is required"))?;
        if buf.readonly() {
            return Err(PyTypeError::new_err(
                "a writable bytes-like object is required, not a read-only buffer",
            ));
        }
        if !buf.is_c_contiguous() {
            return Err(PyTypeError::new_err("a C-contiguous buffer is required"));
        }
        Ok(WBuf(buf))
    }
}
