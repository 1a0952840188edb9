"""Arithmetic that gives a training the same bytes whatever the vector units of the CPU it runs on.

A training is a pure function of its settings and its data, but its float sums are not: oneDNN,
torch's default path for convolutions on a CPU, picks its kernels, and so the order of their sums,
by the CPU's vector units (measured on the 2-core Xeon: the same 200 steps with oneDNN capped at
AVX2 gave other weights than at its AVX-512; torch's own kernels capped alike gave the same ones).
So a training runs its convolutions through torch's own path (im2col and MKL's matrix products)
with MKL in its conditional numerical reproducibility mode on the COMPATIBLE branch (SSE2; the
only fixed branch MKL also runs on other vendors' processors: the others are for Intel's), on a
fixed number of threads. The rendered training data needs the same branch: the targets' light
bleed calls MKL's vector math (capped at AVX2, 213 values of a clip moved by an ulp; on COMPATIBLE
the same bytes capped or not, oneDNN capped too), while Warp's CPU kernels state one operation a
statement, so no multiply-add is fused whatever the CPU (the clips hash alike built for a generic
x86-64 and for a Zen 2). Inference keeps oneDNN and MKL's own dispatch: it is not what a shipped
file is made of.

Measured across vendors once (issue 17's fortieth round): on an AMD EPYC (Zen 4) the full command
rendered the Xeons' clips to the byte but trained other weights. There MKL's dynamic threads, one
MKL thread, its STRICT mode and AVX2 caps left a short training's bytes as they were, so what
differs between the vendors is none of the levers above.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch

MKL_BRANCH = "COMPATIBLE"
# mkl_service.h's codes for the branch in effect (MKL_CBWR_BRANCH_OFF, MKL_CBWR_AUTO, ...)
_BRANCH_NAMES = {1: "off", 2: "AUTO", 3: "COMPATIBLE"}


def mkl_branch() -> str | None:
    """The numerical-reproducibility branch MKL runs in this process (None: torch has no MKL to ask).

    MKL reads ``MKL_CBWR`` once, at its first call, so a process that ran an MKL routine before a
    training keeps its own branch: the training log records which one it got.
    """
    try:
        library = ctypes.CDLL(str(Path(torch.__file__).parent / "lib" / "libtorch_cpu.so"))
        code = library.mkl_serv_cbwr_get(1)  # 1: MKL_CBWR_BRANCH
    except (OSError, AttributeError):
        return None
    return _BRANCH_NAMES.get(code, f"branch {code}")


@contextmanager
def compatible_mkl() -> Iterator[None]:
    """Ask MKL for the COMPATIBLE branch (unless the user set ``MKL_CBWR``) while inside. It takes
    effect only if MKL has not run in this process yet, so ``backrooms train`` asks before it imports
    the pipeline (importing the node's wear already calls MKL); the variable is taken back after, so
    the processes a caller starts later run as they would have."""
    asked = "MKL_CBWR" not in os.environ
    if asked:
        os.environ["MKL_CBWR"] = MKL_BRANCH
    try:
        yield
    finally:
        if asked:
            del os.environ["MKL_CBWR"]


@contextmanager
def portable_arithmetic(threads: int) -> Iterator[None]:
    """Train inside this: convolutions off oneDNN, MKL asked for its COMPATIBLE branch,
    ``threads`` torch threads; the thread count and oneDNN are restored after."""
    with compatible_mkl():
        previous, onednn = torch.get_num_threads(), torch.backends.mkldnn.enabled
        torch.set_num_threads(threads)
        torch.backends.mkldnn.enabled = False  # not mkldnn.flags(): it warns about Intel GPUs' TF32
        try:
            yield
        finally:
            torch.set_num_threads(previous)
            torch.backends.mkldnn.enabled = onednn
