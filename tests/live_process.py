"""A real ``backrooms live`` process for tests: started with its stderr kept, stopped with Ctrl-C
(SIGINT); one that does not end in time is made to print every thread's stack (faulthandler on
SIGABRT) and the test fails with those stacks instead of a bare timeout."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path


def start_live(args: list[str], stderr: Path) -> subprocess.Popen:
    """``backrooms live ARGS`` with stdout piped (its banner) and stderr written to ``stderr``."""
    command = [sys.executable, "-m", "backrooms.cli", "live", *args]
    env = {**os.environ, "PYTHONFAULTHANDLER": "1"}
    with open(stderr, "w") as errors:
        return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, text=True, env=env)


def interrupt(proc: subprocess.Popen, stderr: Path, seconds: float = 30.0) -> str:
    """Ctrl-C; the rest of stdout once the process has ended (asserting it ends within ``seconds``)."""
    proc.send_signal(signal.SIGINT)
    try:
        out, _ = proc.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGABRT)  # faulthandler: every thread's stack to stderr
        try:
            proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
        stacks = stderr.read_text()[-6000:]
        raise AssertionError(f"backrooms live still running {seconds:g} s after Ctrl-C:\n{stacks}") from None
    return out
