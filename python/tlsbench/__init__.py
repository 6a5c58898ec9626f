"""tlsbench: TLS 1.2/1.3 handshake and record benchmarks with a Rust core."""

__version__ = "0.1.0"
