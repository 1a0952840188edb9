"""Helper of the GPU-path tests (not a test module): a kernel module compiles to CUDA PTX here, with
no GPU, through Warp's NVRTC."""

import pytest
import warp as wp


def assert_compiles_for_cuda(module: object, folder: object) -> None:
    wp.init()
    try:
        artifacts = wp.compile_aot_module(module, arch=80, module_dir=str(folder), use_ptx=True)
    except RuntimeError as exc:  # no NVRTC in this Warp build
        pytest.skip(f"cannot compile CUDA here: {exc}")
    assert artifacts and all(p.stat().st_size > 0 for p in artifacts)
