"""Tests Kit runs itself (``[[test]]`` in extension.toml): they need Kit, RTX and Replicator.

Never run on the machines this project was built on; see docs/kit.md.
"""

from backrooms.kit.tests.test_in_kit import *  # noqa: F403  (Kit discovers test classes here)
