"""The benchmark harness: ``tlsbench run`` and the commands around it (see docs/architecture.md)."""
