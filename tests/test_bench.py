"""Every benchmark area runs in the suite (``bench --quick``), the way Warp's tests run its examples:
the bench is code that must keep working, whatever its figures on this machine."""

import json
import math

import pytest

from backrooms.bench import AREAS
from backrooms.cli import main

SLOW = {"scale", "e2e", "diffusion"}  # start worker processes / a cluster, or train-size models


@pytest.mark.parametrize("area", [pytest.param(a, marks=pytest.mark.slow) if a in SLOW else a for a in AREAS])
def test_bench_quick_runs_the_area_and_reports_finite_figures(area, capsys):
    assert main(["bench", "--quick", "--json", "--device", "cpu", area]) == 0
    said = capsys.readouterr()
    report = json.loads(said.out)
    results = report["results"]
    assert f"bench: {area}: {len(results)} figures in " in said.err  # a long run says what each took
    assert results and {r["area"] for r in results} == {area}
    assert all(isinstance(r["value"], int | float) and math.isfinite(r["value"]) for r in results)
    assert report["machine"]["cores"] >= 1 and isinstance(report["machine"]["bfloat16_units"], str)


def test_bench_refuses_cuda_where_there_is_none_in_one_line(capsys):
    import warp as wp

    wp.init()
    if wp.is_cuda_available():
        pytest.skip("this machine has CUDA")
    assert main(["bench", "--quick", "--device", "cuda", "render"]) == 2
    assert capsys.readouterr().err.strip() == (
        "backrooms: error: --device cuda: no CUDA device is available on this machine"
    )
