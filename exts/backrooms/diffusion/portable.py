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

Across vendors one more thing differs (found in issue 17's forty-sixth round): torch takes a float
tensor's square root through MKL's vector math, and the kernel MKL runs for it on the COMPATIBLE
branch (on AMD's processors at any setting, and the same one with MKL's vendor check answering Intel)
starts from the CPU's ``rsqrtps`` estimate, an approximation each vendor tabulates its own way
(``mkl_vml_kernel_sSqrt_EXHAynn``: five rsqrtps, no sqrt instruction). 15.5 % of its results are not
the correctly rounded root, so which of them are off by an ulp depends on the make of the CPU. The
training takes such roots every step (AdamW's denominators, the VHS loss's Charbonnier term). The
other MKL code a training runs uses no estimate: the matrix products (CNR kernels) and the
exponential (``sExp_EXHAynn``), which the clips, bit-identical across vendors, go through too. So
a training takes its square roots as the sqrt instruction does (IEEE: correctly rounded, the same
bits on any CPU), through numpy: :class:`PortableAdamW` and :func:`with_ieee_roots`. Before this an
AMD EPYC rendered the Xeons' clips to the byte and trained other weights (the fortieth round).
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch
from torch.utils._python_dispatch import TorchDispatchMode

MKL_BRANCH = "COMPATIBLE"
# mkl_service.h's codes for the branch in effect (MKL_CBWR_BRANCH_OFF, MKL_CBWR_AUTO, ...)
_BRANCH_NAMES = {1: "off", 2: "AUTO", 3: "COMPATIBLE"}
T = TypeVar("T")


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


_FLOATS = (torch.float32, torch.float64)


def ieee_sqrt(x: torch.Tensor) -> torch.Tensor:
    """The correctly rounded square root of a float CPU tensor (numpy's: the sqrt instruction), laid
    out as ``x``."""
    root = torch.empty_like(x)
    np.sqrt(x.detach().numpy(), out=root.numpy())
    return root


class IeeeSquareRoots(TorchDispatchMode):
    """While active, torch's square roots of float CPU tensors (``sqrt``, ``sqrt_``, ``pow`` by 0.5)
    are :func:`ieee_sqrt` instead of MKL's estimate (autograd's formula for them is unchanged). Every
    op inside pays a Python call (the whole training step inside: 30 % slower), so it wraps only
    the code that takes roots: the optimiser's step and the VHS loss."""

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        x = args[0] if args else None
        if isinstance(x, torch.Tensor) and x.device.type == "cpu" and x.dtype in _FLOATS:
            if func is torch.ops.aten.sqrt.default:
                return ieee_sqrt(x)
            if func is torch.ops.aten.sqrt_.default:
                return x.copy_(ieee_sqrt(x))
            if func is torch.ops.aten.pow.Tensor_Scalar and args[1] == 0.5:
                return ieee_sqrt(x)
        return func(*args, **(kwargs or {}))


def with_ieee_roots(fn: Callable[..., T]) -> Callable[..., T]:
    """``fn`` with its square roots taken inside :class:`IeeeSquareRoots` (e.g. a loss)."""

    def call(*args: Any, **kwargs: Any) -> T:
        with IeeeSquareRoots():
            return fn(*args, **kwargs)

    return call


class PortableAdamW(torch.optim.AdamW):
    """torch's AdamW, its denominators' square roots correctly rounded (:class:`IeeeSquareRoots`)."""

    def step(self, closure=None):
        with IeeeSquareRoots():
            return super().step(closure)


@contextmanager
def portable_arithmetic(threads: int) -> Iterator[None]:
    """Train inside this (with :class:`PortableAdamW` and the roots of the losses taken by
    :func:`with_ieee_roots`): convolutions off oneDNN, MKL asked for its COMPATIBLE branch,
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
