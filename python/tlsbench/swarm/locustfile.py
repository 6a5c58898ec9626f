"""The locustfile ``tlsbench locust`` gives Locust: tlsbench's users, by class name
(``Handshake`` unless others are named on the command line)."""

from tlsbench.swarm.users import Bulk, Garbage, Handshake, Reset, Stall, Truncated

__all__ = ["Bulk", "Garbage", "Handshake", "Reset", "Stall", "Truncated"]
