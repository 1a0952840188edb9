"""Training pairs from the real renderer, the training step, and the ``backrooms train`` command."""

import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from backrooms.cli import main
from backrooms.diffusion.data import (
    Clip,
    clip_settings,
    clip_world,
    ensure_clips,
    ensure_scaled,
    load_scaled,
    render_clip,
)
from backrooms.diffusion.model import DenoiserConfig
from backrooms.diffusion.train import PairSampler, TrainConfig, train, training_losses
from backrooms.errors import UserError

TINY = DenoiserConfig(widths=(8, 16), blocks=1)
# `backrooms train` on two tiny clips, not evaluated: the command's tests add their spp and steps
TINY_COMMAND = ["--clips", "2", "--frames", "2", "--memory-frames", "1", "--size", "64x48", "--quiet"]
TINY_COMMAND += ["--batch", "2", "--crop", "32", "--eval-frames", "0"]


def _l1(a, b):
    return (a - b).abs().mean()


@pytest.fixture(scope="module")
def clip() -> Clip:
    """Three frames of a real walk, cheap (1 spp) and expensive (4 spp at twice the size)."""
    clip, _ = render_clip(*clip_world(0, 0), 3, 64, 48, clip_settings(0, 0), expensive_spp=4)
    return clip


def test_each_clip_walks_its_own_world_reproducibly():
    assert clip_world(0, 1) == clip_world(0, 1)
    assert clip_world(0, 1)[0] != clip_world(0, 2)[0]
    assert clip_settings(0, 1) == clip_settings(0, 1) != clip_settings(0, 2)


def test_rendered_pair_has_aovs_and_a_cleaner_target(clip):
    assert clip.render.shape == clip.target.shape == (3, 3, 48, 64)
    assert clip.motion.shape == (3, 2, 48, 64) and clip.motion.abs().max() > 0

    # the expensive render is the converged one: less pixel-to-pixel noise than 1 spp
    def grain(x):
        return (x[..., 1:] - x[..., :-1]).abs().mean()

    assert grain(clip.target) < grain(clip.render)


def test_clip_round_trips_through_safetensors(clip, tmp_path):
    clip.save(tmp_path / "c.safetensors")
    loaded = Clip.load(tmp_path / "c.safetensors")
    assert torch.equal(loaded.target, clip.target) and torch.equal(loaded.disocclusion, clip.disocclusion)


def test_clip_folder_made_with_other_settings_is_refused(tmp_path):
    spec = {"frames": 2, "width": 64, "height": 48, "expensive_spp": 4, "seed": 0, "target": 3}
    (tmp_path / "dataset.json").write_text(json.dumps({"spec": spec, "timing": {}}))
    with pytest.raises(UserError, match="another --data"):
        ensure_clips(tmp_path, 1, 3, 64, 48, 4, 0, progress=False)


def test_a_clip_cut_short_in_the_cache_is_rendered_again(tmp_path):
    """A clip an older version left half-saved (killed, or a full disk) was a SafetensorError
    traceback on every later run; it is made again, to the bytes it should have had."""
    (path,) = ensure_clips(tmp_path, 1, 2, 64, 48, 2, 0, progress=False)
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])
    assert ensure_clips(tmp_path, 1, 2, 64, 48, 2, 0, progress=False) == [path]
    assert path.read_bytes() == whole


def test_an_unreadable_clip_folder_record_is_one_line(tmp_path):
    (tmp_path / "dataset.json").write_text('{"spec": {"frames"')
    with pytest.raises(UserError, match=r"dataset\.json: unreadable"):
        ensure_clips(tmp_path, 1, 2, 64, 48, 2, 0, progress=False)


def test_training_losses_are_finite_and_reach_every_weight(clip):
    from backrooms.diffusion.model import Denoiser

    torch.manual_seed(0)
    model = Denoiser(TINY)
    for p in model.head.parameters():
        torch.nn.init.normal_(p, std=0.01)
    batch = PairSampler([clip], 32, 0).sample(2)
    losses = training_losses(model, batch, TrainConfig(), torch.Generator().manual_seed(0), _l1)
    losses["total"].backward()
    assert all(torch.isfinite(v) for v in losses.values())
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())


def test_the_memory_can_be_carried_through_the_frames_before(clip):
    from backrooms.diffusion.model import Denoiser

    batch = PairSampler([clip], 32, 0, history=2).sample(2)
    (before,) = batch.earlier  # frames (t-2, t-1) at the same crop as (t-1, t)
    assert torch.equal(before.render, batch.render_prev) and torch.equal(before.depth, batch.depth_prev)
    assert not torch.equal(before.render_prev, batch.render_prev)
    torch.manual_seed(0)
    model = Denoiser(TINY)
    for p in model.head.parameters():
        torch.nn.init.normal_(p, std=0.01)
    config = TrainConfig(memory_dropout=0.0)

    def losses(b):
        return training_losses(model, b, config, torch.Generator().manual_seed(0), _l1)

    carried = losses(batch)
    carried["total"].backward()
    assert all(torch.isfinite(v) for v in carried.values())
    # the memory frame t sees is the one carried from t-2, not a single pass on t-1
    batch.earlier = ()
    assert losses(batch)["temporal"].item() != carried["temporal"].item()
    with pytest.raises(ValueError, match="clips longer"):
        PairSampler([clip], 32, 0, history=3)


def test_node_memory_arrives_lit_by_the_next_frame():
    """Trained as the node runs it, a memory crossing a change of light arrives in the new light."""
    from backrooms.diffusion.train import _memory
    from backrooms.diffusion.warping import source_grid

    before = torch.full((1, 3, 16, 16), 0.6)  # a lit frame ([-1, 1])
    now = torch.full((1, 3, 16, 16), -0.6)  # the panel went off
    grid = source_grid(torch.zeros(1, 2, 16, 16))
    plain = _memory(before, before, now, grid, TrainConfig(memory="plain"))
    as_node = _memory(before, before, now, grid, TrainConfig(memory="node"))
    assert torch.allclose(plain, before, atol=1e-5)  # carried as it was: lit
    assert torch.allclose(as_node, now, atol=1e-4)  # re-lit by the frame it arrives in


@pytest.mark.slow
def test_training_learns_a_colour_grade_the_pairs_show(clip):
    from dataclasses import replace

    from backrooms.diffusion.model import Denoiser

    graded = replace(clip, target=clip.render * 0.5 - 0.3)  # darker, flatter: learnable in a few steps
    config = TrainConfig(steps=40, minutes=5, batch=4, crop=32, lr=3e-3, ema=0.0, memory_frames=1)
    batch = PairSampler([graded], 32, 1).sample(4)

    def l1(model):
        with torch.no_grad():
            return float(training_losses(model, batch, config, torch.Generator().manual_seed(2), _l1)["l1"])

    torch.manual_seed(config.seed)
    before = l1(Denoiser(TINY))  # train() starts from these same weights
    trained, log = train([graded], config, TINY, vhs_loss=_l1, progress=False)
    assert log["steps"] == 40
    assert l1(trained) < 0.7 * before


def _state_bytes(model) -> bytes:
    return b"".join(v.numpy().tobytes() for v in model.state_dict().values())


def test_flow_objective_trains_reproducibly_and_its_sampler_is_deterministic(clip):
    """Rectified flow on the target's line: the velocity loss falls, two runs give the same bytes, and
    the few-step sampler returns the same frame twice for one noise (another noise, another frame)."""
    from dataclasses import replace

    from backrooms.diffusion.model import Denoiser
    from backrooms.diffusion.pipeline import FrameInputs, StylisePipeline

    graded = replace(clip, target=clip.render * 0.5 - 0.3)
    config = TrainConfig(steps=24, batch=4, crop=32, lr=3e-3, ema=0.0, objective="flow", memory_frames=1)
    batch = PairSampler([graded], 32, 1).sample(4)

    def flow_loss(model):
        with torch.no_grad():
            losses = training_losses(model, batch, config, torch.Generator().manual_seed(2), _l1)
            return float(losses["flow"])

    torch.manual_seed(config.seed)
    before = flow_loss(Denoiser(TINY))  # train() starts from these same weights
    first, log = train([graded], config, TINY, vhs_loss=_l1, progress=False)
    second, _ = train([graded], config, TINY, vhs_loss=_l1, progress=False)
    assert log["steps"] == 24 and not log["stopped_early"]
    assert flow_loss(first) < 0.7 * before
    assert _state_bytes(first) == _state_bytes(second)

    zeros1 = torch.zeros_like(graded.depth[:1])
    inputs = FrameInputs(
        graded.render[:1], graded.depth[:1], graded.normals[:1], graded.render[:1] * 0, zeros1
    )
    pipe = StylisePipeline(first, multiple=first.multiple)
    noise = torch.randn(graded.render[:1].shape, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        a, b = pipe(inputs, noise, 0.8, 3), pipe(inputs, noise.clone(), 0.8, 3)
        other = pipe(inputs, -noise, 0.8, 3)
    assert torch.equal(a, b) and not torch.equal(a, other)


def test_reduced_scale_renders_are_cached_and_a_share_of_batches_trains_on_them(clip, tmp_path):
    """The same walk traced at render.scale 0.5 (reconstructed at full size), the same target."""
    path = tmp_path / "clip-0000.safetensors"
    clip.save(path)
    views = ensure_scaled([path], 3, 64, 48, (0.5,), 0, progress=False)
    (cached,) = views[0.5]
    made = cached.stat().st_mtime_ns
    assert ensure_scaled([path], 3, 64, 48, (0.5,), 0, progress=False) == views
    assert cached.stat().st_mtime_ns == made  # not rendered twice
    low = load_scaled(clip, cached)
    assert torch.equal(low.target, clip.target) and low.render.shape == clip.render.shape
    assert 0 < _l1(low.render, clip.render) < 0.1  # the same walk, fewer rays

    plain = PairSampler([clip], 32, 3).sample(2)
    never = PairSampler([clip], 32, 3, reduced={0.5: [low]}, reduced_share=0.0).sample(2)
    assert torch.equal(never.render, plain.render)  # share 0 draws as before
    always = PairSampler([clip], 32, 3, reduced={0.5: [low]}, reduced_share=1.0).sample(2)
    assert not torch.equal(always.render, plain.render)
    from backrooms.diffusion.model import Denoiser

    assert (plain.scale, never.scale, always.scale) == (1.0, 1.0, 0.5)
    model = Denoiser(TINY)
    losses = training_losses(model, always, TrainConfig(), torch.Generator().manual_seed(0), _l1)
    assert all(torch.isfinite(v) for v in losses.values())
    # the memory is trusted as the node trusts it below full size: temporal weight x render.scale
    as_node = training_losses(
        model,
        replace(always, scale=1.0),
        TrainConfig(memory_trust=0.425),
        torch.Generator().manual_seed(0),
        _l1,
    )
    assert torch.equal(losses["total"], as_node["total"])
    at_full_trust = training_losses(
        model, replace(always, scale=1.0), TrainConfig(), torch.Generator().manual_seed(0), _l1
    )
    assert not torch.equal(losses["total"], at_full_trust["total"])
    with pytest.raises(ValueError, match="reduced scale"):
        PairSampler([clip], 32, 3, reduced_share=0.5)


@pytest.mark.parametrize(
    "word", [{"objective": "gan"}, {"memory": "dream"}, {"reduced_share": 1.5}, {"memory_trust": -0.1}]
)
def test_an_unknown_objective_or_memory_or_a_share_past_1_is_refused(clip, word):
    (name,) = word
    with pytest.raises(ValueError, match=name):
        train([clip], TrainConfig(steps=1, crop=32, **word), TINY, vhs_loss=_l1, progress=False)


@pytest.mark.parametrize("crop", [90, 88])
def test_train_command_refuses_a_crop_off_the_models_grid(capsys, crop):
    """The shipped network's sides are multiples of 16 (4x4 patches, then two halvings)."""
    assert DenoiserConfig().multiple == 16
    assert main(["train", "--crop", str(crop), "--eval-frames", "0"]) == 2
    assert f"--crop {crop}: must be a multiple of 16" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args, message",
    [
        (["--memory-frames", "8"], "--memory-frames 8: must be below --frames (8)"),
        (["--memory-frames", "0"], "--memory-frames: too small (0)"),
        (["--reduced-share", "1.5"], "--reduced-share 1.5: expected a share from 0 to 1"),
        (["--memory-trust", "2"], "--memory-trust 2.0: expected a share from 0 to 1"),
        (["--eval-walks", "0"], "--eval-walks: too small (0)"),
    ],
)
def test_train_command_refuses_a_memory_longer_than_the_walks_and_a_share_past_1(capsys, args, message):
    assert main(["train", *args, "--eval-frames", "0"]) == 2
    assert message in capsys.readouterr().err


def test_training_trusts_the_memory_at_its_own_setting_not_the_nodes_default(clip):
    """``backrooms train`` reproduces the shipped weights (trained at 0.85) whatever trust the node
    runs them at; the setting reaches the loss only with the node-made memory."""
    from backrooms.diffusion.model import Denoiser
    from backrooms.params import REGISTRY

    assert TrainConfig().memory_trust == 0.85 != REGISTRY["diffusion.temporal_weight"].default
    torch.manual_seed(0)
    model = Denoiser(TINY)
    batch = PairSampler([clip], 32, 1).sample(2)

    def total(**settings) -> float:
        config = TrainConfig(memory_dropout=0.0, **settings)
        losses = training_losses(model, batch, config, torch.Generator().manual_seed(0), _l1)
        return float(losses["total"].detach())

    assert total(memory_trust=0.85) != total(memory_trust=0.3)
    assert total(memory="plain", memory_trust=0.85) == total(memory="plain", memory_trust=0.3)


def test_train_command_logs_a_digest_of_the_data_it_read_and_the_machine(tmp_path):
    """Weights are a pure function of the settings and the data; when a run on another machine gives
    other bytes all the same, the log tells whether the data differed or only the arithmetic."""
    import hashlib

    data, out = tmp_path / "data", tmp_path / "model"
    tiny = [*TINY_COMMAND, "--expensive-spp", "1", "--steps", "2"]

    def trained() -> dict:
        with torch.random.fork_rng():  # the command seeds torch: the tests after this one keep their state
            assert main(["train", "--data", str(data), "--out", str(out), *tiny]) == 0
        return json.loads((out / "training.json").read_text())

    log = trained()
    clips = [data / f"clip-{i:04d}.safetensors" for i in range(2)]
    assert log["data"]["sha256"] == hashlib.sha256(b"".join(p.read_bytes() for p in clips)).hexdigest()
    assert log["machine"]["torch_cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert log["machine"]["cpu"] and log["machine"]["torch"] == torch.__version__
    assert trained()["data"]["sha256"] == log["data"]["sha256"]  # the cached clips: the same digest
    clips[1].write_bytes(clips[0].read_bytes())  # other data, as valid
    assert trained()["data"]["sha256"] != log["data"]["sha256"]


def test_training_gives_the_same_bytes_whatever_the_cpus_vector_units(tmp_path):
    """`backrooms train` reproduces the shipped weights on another CPU, not only on the one that made
    them: run as this machine runs it and with oneDNN, torch and MKL capped at AVX2 (as on an AVX2
    EPYC), the data and the weights are the same bytes. Before the portable arithmetic the capped
    run gave other weights after the first steps. On a CPU without AVX-512 both runs are one run."""
    import os
    import subprocess
    import sys

    tiny = [*TINY_COMMAND, "--expensive-spp", "2", "--steps", "6"]
    capped = {"ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"}
    base = {k: v for k, v in os.environ.items() if k not in (*capped, "MKL_CBWR")}

    def trained(name: str, extra: dict) -> tuple[bytes, dict]:
        out = tmp_path / name
        command = [sys.executable, "-m", "backrooms.cli", "train", "--data", str(tmp_path / f"data-{name}")]
        subprocess.run([*command, "--out", str(out), *tiny], env={**base, **extra}, check=True)
        return (out / "model.safetensors").read_bytes(), json.loads((out / "training.json").read_text())

    native, log = trained("native", {})
    assert log["mkl_branch"] == "COMPATIBLE" and log["config"]["threads"] == 2
    avx2, capped_log = trained("avx2", capped)
    assert capped_log["data"]["sha256"] == log["data"]["sha256"]
    assert avx2 == native


def test_a_training_takes_its_square_roots_correctly_rounded(clip):
    """The roots a training takes (AdamW's denominators, the VHS loss's) are the IEEE ones, which
    every CPU rounds alike; torch's own go through MKL's vector math, which starts from the CPU's
    rsqrtps estimate and rounds about one in six otherwise, differently on an Intel and an AMD CPU.
    The gradient keeps torch's formula (half over the root). A training of two steps takes no root
    past them."""
    from torch.utils._python_dispatch import TorchDispatchMode

    from backrooms.diffusion.portable import IeeeSquareRoots

    x = torch.rand(1 << 16, generator=torch.Generator().manual_seed(0)) * 10.0
    exact = torch.from_numpy(np.sqrt(x.numpy().astype(np.float64)).astype(np.float32))
    leaf = x.clone().requires_grad_()
    with IeeeSquareRoots():
        roots = [torch.sqrt(x), x.sqrt(), x**0.5, x.clone().sqrt_(), x.double().sqrt().float()]
        torch.sqrt(leaf).sum().backward()
    for root in roots:
        assert torch.equal(root, exact)
    assert torch.equal(leaf.grad, 1.0 / (2.0 * exact))

    class Roots(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            if func.__name__.startswith("sqrt") or (func.__name__.startswith("pow") and args[1] == 0.5):
                taken.append(func.__name__)
            return func(*args, **(kwargs or {}))

    taken: list[str] = []
    with Roots():
        torch.sqrt(x)  # the recorder sees a root taken outside
        assert taken == ["sqrt.default"]
        train([clip], TrainConfig(steps=2, batch=2, crop=32, memory_frames=1), TINY, progress=False)
    assert taken == ["sqrt.default"]


def test_eval_only_scores_the_held_out_walks_and_names_the_machine(tmp_path):
    """`backrooms train --eval-only` on a tiny model: every row of evaluation.json is a score, the
    walks are averaged, and the CPU is recorded (its figures are that CPU's: on native bfloat16 units,
    AMX or AVX-512 BF16, the network runs in bfloat16, elsewhere in float32)."""
    import math

    from backrooms.diffusion.backends.torch_backend import bfloat16_units

    out = tmp_path / "model"
    tiny = [*TINY_COMMAND, "--expensive-spp", "1", "--steps", "2"]
    scored = ["--eval-only", "--eval-frames", "3", "--eval-walks", "2"]
    with torch.random.fork_rng():
        assert main(["train", "--data", str(tmp_path / "data"), "--out", str(out), *tiny]) == 0
        assert main(["train", "--out", str(out), *tiny, *scored]) == 0
    report = json.loads((out / "evaluation.json").read_text())
    rows = [report["temporal"], report["frame_by_frame"], *report["graph"].values()]
    rows += [row for walk in report["held_out_walks"]["walks"].values() for row in walk.values()]
    assert len(report["graph"]) == 6 and set(report["held_out_walks"]["walks"]) == {"10000", "10001"}
    assert all(0 < r["ssim"] <= 1 and math.isfinite(r["psnr"]) and r["warping_error"] >= 0 for r in rows)
    assert report["held_out_walks"]["mean"]["node"]["ssim"] == pytest.approx(
        sum(w["node"]["ssim"] for w in report["held_out_walks"]["walks"].values()) / 2
    )
    machine = report["machine"]
    assert machine["cpu"] and machine["bfloat16_units"] == bfloat16_units()
    assert machine["torch_cpu_capability"] == torch.backends.cpu.get_cpu_capability()


def test_a_training_records_a_check_that_another_machine_repeats_in_minutes(tmp_path, capsys, monkeypatch):
    """`backrooms train` records the bytes of a short training of its own settings (its check: made
    in the same process after the full run, as a separate short run makes them); `--check` trains it
    again from the settings and clips training.json records, and says whether this CPU gives the same
    bytes (exit 0) or other ones (exit 1), and whether the clips already differ."""
    import hashlib

    from backrooms.diffusion import commands

    monkeypatch.setattr(commands, "CHECK_STEPS", 2)
    data, out, short = tmp_path / "data", tmp_path / "model", tmp_path / "short"
    tiny = [*TINY_COMMAND, "--expensive-spp", "1", "--data", str(data)]
    check = ["train", "--check", "--out", str(out), "--data", str(data), "--quiet"]

    def run(*args: str) -> tuple[int, str]:
        capsys.readouterr()
        with torch.random.fork_rng():  # the command seeds torch: the tests after this one keep their state
            code = main(list(args))
        return code, capsys.readouterr().out

    assert run("train", "--out", str(out), *tiny, "--steps", "3")[0] == 0
    assert run("train", "--out", str(short), *tiny, "--steps", "2")[0] == 0
    log = json.loads((out / "training.json").read_text())
    short_digest = hashlib.sha256((short / "model.safetensors").read_bytes()).hexdigest()
    assert log["check"] == {"steps": 2, "sha256": short_digest}
    assert json.loads((short / "training.json").read_text())["check"]["sha256"] == short_digest  # its own
    code, said = run(*check)
    assert code == 0 and f"2 steps give the bytes {out / 'training.json'} records ({short_digest[:8]}" in said
    log["check"]["sha256"] = "0" * 64  # as another CPU's arithmetic would have recorded
    (out / "training.json").write_text(json.dumps(log))
    code, said = run(*check)
    assert code == 1 and f"2 steps give {short_digest[:8]}… where" in said and "other arithmetic" in said
    log["data"]["sha256"] = "f" * 64  # as another machine's renderer would have recorded
    (out / "training.json").write_text(json.dumps(log))
    code, said = run(*check)
    assert code == 1 and "are not the ones" in said and "renders other bytes" in said


@pytest.mark.parametrize(
    "log, args, message",
    [
        (None, [], "training.json: no such file"),
        ("{not json", [], "not readable"),
        ('{"config": {}}', [], "records no check"),
        ('{"check": {"steps": 2, "sha256": "0"}, "config": {"lr": -1}}', [], "not a training log"),
        ('{"check": {"steps": 2, "sha256": "0"}}', ["--eval-only"], "--check and --eval-only"),
    ],
)
def test_train_check_refuses_a_folder_without_a_readable_check_in_one_line(
    tmp_path, capsys, log, args, message
):
    out = tmp_path / "model"
    out.mkdir()
    if log is not None:
        (out / "training.json").write_text(log)
    assert main(["train", "--check", "--out", str(out), "--data", str(tmp_path / "data"), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "data").exists()  # refused before any clip is rendered


def test_a_training_stopped_by_ctrl_c_goes_on_from_its_checkpoint_to_the_same_bytes(clip, tmp_path):
    """A real SIGINT in the middle of step 3: the step ends, its checkpoint is written, the run
    stops; going on from the checkpoint gives the weights, the loss curve and the last losses of a run
    that never stopped, to the byte."""
    import signal

    config = TrainConfig(steps=6, batch=2, crop=32, lr=3e-3, memory_frames=1, log_every=1, checkpoint_every=4)
    handler = signal.getsignal(signal.SIGINT)
    straight, log = train([clip], config, TINY, vhs_loss=_l1, progress=False)
    checkpoint = tmp_path / "checkpoint.safetensors"
    calls = 0

    def interrupted_in_step_3(a, b):
        nonlocal calls
        calls += 1
        if calls == 3:
            signal.raise_signal(signal.SIGINT)
        return _l1(a, b)

    with pytest.raises(KeyboardInterrupt):
        train([clip], config, TINY, interrupted_in_step_3, False, checkpoint=checkpoint, data="d")
    assert checkpoint.is_file()
    assert calls == 3  # the step the interrupt landed in was finished, and no other begun
    resumed, resumed_log = train([clip], config, TINY, _l1, False, checkpoint=checkpoint, data="d")
    assert resumed_log["resumed_at"] == [3] and resumed_log["steps"] == 6
    assert _state_bytes(resumed) == _state_bytes(straight)
    assert resumed_log["curve"] == log["curve"] and resumed_log["final"] == log["final"]
    assert signal.getsignal(signal.SIGINT) is handler  # handed back


def test_a_checkpoint_of_other_settings_or_data_is_refused_and_a_broken_one_named(clip, tmp_path):
    config = TrainConfig(steps=2, batch=2, crop=32, memory_frames=1, checkpoint_every=1, minutes=1e-9)
    checkpoint = tmp_path / "checkpoint.safetensors"
    _, log = train([clip], config, TINY, _l1, False, checkpoint=checkpoint, data="d")
    assert log["stopped_early"] and checkpoint.is_file()  # no time for a step: saved at step 0
    with pytest.raises(UserError, match=r"lr 0\.001 there, 0\.01 here"):
        train([clip], replace(config, lr=0.01), TINY, _l1, False, checkpoint=checkpoint, data="d")
    with pytest.raises(UserError, match="data d there, e here"):
        train([clip], config, TINY, _l1, False, checkpoint=checkpoint, data="e")
    _, log = train([clip], replace(config, minutes=5.0), TINY, _l1, False, checkpoint=checkpoint, data="d")
    assert log["steps"] == 2 and log["resumed_at"] == [0]  # the minutes are this run's own
    assert log["config"]["minutes"] == 5.0
    checkpoint.write_bytes(b"\x00" * 16)
    with pytest.raises(UserError, match="not a checkpoint this command wrote"):
        train([clip], config, TINY, _l1, False, checkpoint=checkpoint, data="d")


def test_train_command_stopped_by_minutes_writes_nothing_and_the_same_command_finishes(tmp_path, capsys):
    """`--minutes` stops a run at a checkpoint in --out without touching the model there; the same
    command goes on from it and writes the weights a run in one go writes, and removes it."""
    data, out, straight = tmp_path / "data", tmp_path / "model", tmp_path / "straight"
    tiny = [*TINY_COMMAND, "--expensive-spp", "1", "--steps", "3", "--data", str(data)]
    out.mkdir()
    (out / "model.safetensors").write_bytes(b"the weights before")
    with torch.random.fork_rng():
        assert main(["train", "--out", str(out), *tiny, "--minutes", "0.000001"]) == 0
        assert "nothing written" in capsys.readouterr().out
        assert (out / "model.safetensors").read_bytes() == b"the weights before"
        assert (out / "checkpoint.safetensors").is_file() and not (out / "training.json").exists()
        assert main(["train", "--out", str(out), *tiny]) == 0
        assert "gone on from step" in capsys.readouterr().out
        assert main(["train", "--out", str(straight), *tiny]) == 0
    assert (out / "model.safetensors").read_bytes() == (straight / "model.safetensors").read_bytes()
    assert not (out / "checkpoint.safetensors").exists()
    log = json.loads((out / "training.json").read_text())
    assert log["steps"] == 3 and not log["stopped_early"] and len(log["resumed_at"]) == 1
