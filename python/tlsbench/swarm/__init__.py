"""tlsbench on Locust's distributed engine: the user classes (``users``), the locustfile
Locust loads, and ``tlsbench locust`` (``command``). Needs the ``locust`` extra."""
