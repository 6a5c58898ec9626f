"""``python -m tlsbench``."""

from tlsbench.cli import main

main()
