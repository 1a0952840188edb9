"""The Ray engine on a real one-node cluster (2 CPUs, 2 declared GPUs), shared by every test here."""

import logging
import os
import socket
import subprocess
from pathlib import Path

import pytest

from backrooms.batch import render_clip
from backrooms.errors import UserError
from backrooms.graph.recipe import load_recipe
from backrooms.params import ParamStore
from backrooms.scale.ray_engine import RayEngine, check_reachable, task_options
from backrooms.scale.shard import FixedParams
from scale_nodes import CLI, ENV, save_tiny_style, tape_recipe

ray = pytest.importorskip("ray")

FRAMES = 24


@pytest.fixture(scope="module")
def cluster():
    """One cluster for the module (start-up is seconds); workers import the tape node from tests/."""
    ray.init(
        num_cpus=2,
        num_gpus=2,  # declared, not real: scheduling behaves as if they exist
        include_dashboard=False,
        object_store_memory=80 * 2**20,
        logging_level=logging.WARNING,
        runtime_env={"env_vars": {"PYTHONPATH": str(Path(__file__).parent)}},
    )
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("reference")
    render_clip(tape_recipe(FRAMES), FixedParams({}).snapshot, out, progress=False)
    return frames_of(out)


def frames_of(out):
    return {p.name: p.read_bytes() for p in sorted((out / "frames").glob("*"))}


def render_on_ray(out, params=None, shards=5):
    params = params or FixedParams({})
    recipe = tape_recipe(FRAMES)
    engine = RayEngine(shards=shards)
    return render_clip(recipe, params.snapshot, out, params_at=params, progress=False, engine=engine)


def failing_once(tmp_path, how):
    return FixedParams({"test.fail_at": 13, "test.markers": str(tmp_path), "test.fail_how": how})


def test_ray_shards_write_the_bytes_of_one_process(cluster, tmp_path, reference):
    manifest = render_on_ray(tmp_path / "out")  # cuts at 4, 9, 16, 19: three start mid-period
    assert frames_of(tmp_path / "out") == reference
    assert sorted(manifest.frames) == list(range(FRAMES))


@pytest.mark.parametrize("how", ["raise", "exit"])
def test_a_failed_shard_is_retried_without_lost_or_duplicated_frames(cluster, tmp_path, reference, how):
    manifest = render_on_ray(tmp_path / "out", failing_once(tmp_path, how))
    assert (tmp_path / "failed_13").exists()  # the first attempt did fail (raised, or its worker died)
    assert frames_of(tmp_path / "out") == reference
    assert sorted(manifest.frames) == list(range(FRAMES))


def test_a_user_error_in_a_shard_is_final_and_reaches_the_user_unwrapped(cluster, tmp_path):
    with pytest.raises(UserError, match=r"^bad tape$"):
        render_on_ray(tmp_path / "out", failing_once(tmp_path, "user"))


@pytest.mark.slow
def test_the_cli_starts_and_stops_its_own_cluster_when_none_is_up(tmp_path, reference):
    recipe = tmp_path / "tape.toml"
    recipe.write_text('nodes = ["render"]\n[output]\nsize = "32x24"\nseed = 7\n')
    argv = ["render", "--recipe", str(recipe), "--frames", str(FRAMES), "--engine", "ray", "--shards", "3"]
    env = {k: v for k, v in ENV.items() if k != "RAY_ADDRESS"}
    subprocess.run([*CLI, *argv, "--quiet", "--out", str(tmp_path / "out")], env=env, check=True)
    assert frames_of(tmp_path / "out") == reference


def test_cuda_shards_each_get_one_whole_gpu(cluster):
    options, slots = task_options("cuda", ray.cluster_resources())
    assert slots == 2

    @ray.remote(**options)
    def visible():
        return tuple(ray.get_gpu_ids()), os.environ["CUDA_VISIBLE_DEVICES"], os.getpid()

    seen = ray.get([visible.remote() for _ in range(4)])
    assert all(len(ids) == 1 and cuda == str(ids[0]) for ids, cuda, _ in seen)
    assert len({pid for *_, pid in seen}) == 4  # a fresh process per task: CUDA cannot switch GPUs


def test_a_cuda_render_on_a_cluster_without_gpus_is_refused():
    with pytest.raises(UserError, match="has no GPUs"):
        task_options("cuda", {"CPU": 8.0})


@pytest.fixture(scope="module")
def tiny_style(tmp_path_factory):
    return save_tiny_style(tmp_path_factory.mktemp("style"))


@pytest.mark.slow
def test_default_pipeline_on_ray_shards_matches_one_process_byte_for_byte(cluster, tmp_path, tiny_style):
    """The default recipe (render -> diffusion -> camcorder -> decay -> audio); the diffusion state
    restarts every 8 frames, shards start mid-run; every frame's PNG and sound (.pcm) must match."""
    recipe = load_recipe().with_overrides(frames=16, width=64, height=48)
    store = ParamStore(values=recipe.params)
    store.update({"diffusion.style": tiny_style, "diffusion.reset_interval": 8})
    render_clip(recipe, store.snapshot(), tmp_path / "one", progress=False)
    render_clip(recipe, store.snapshot(), tmp_path / "ray", progress=False, engine=RayEngine(shards=3))
    assert sorted({name.rsplit(".", 1)[1] for name in frames_of(tmp_path / "one")}) == ["pcm", "png"]
    assert len(frames_of(tmp_path / "one")) == 2 * 16
    assert frames_of(tmp_path / "ray") == frames_of(tmp_path / "one")


def test_an_address_where_no_cluster_answers_fails_in_seconds_with_one_line():
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{unused.getsockname()[1]}"  # bound, not listening: refused
        with pytest.raises(UserError, match=f"--address {address}: no Ray cluster answers there"):
            check_reachable(address)
