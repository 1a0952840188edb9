"""A disk that fills up: one line naming the file, exit 2, no half-written file, the file that was
there kept, and the work done so far kept for the same command to finish.

The kernel's per-file size limit (``RLIMIT_FSIZE``) stands in for the full disk: a write past it
fails with EFBIG exactly where one on a full disk fails with ENOSPC, and it needs no mount. It is
set in a child process only (pytest's own capture files must not hit it), so each case runs the
real command line or a short script there.
"""

from __future__ import annotations

import hashlib
import json
import resource
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

from backrooms.io.png import read_png
from backrooms.params.automation import load_automation


def _limited(limit: int | None, args: list[str]) -> subprocess.CompletedProcess:
    """Run ``python args`` with files capped at ``limit`` bytes (Python ignores SIGXFSZ: EFBIG)."""

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))

    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, preexec_fn=None if limit is None else cap
    )


def _cli(limit: int | None, *argv: str) -> subprocess.CompletedProcess:
    return _limited(limit, ["-m", "backrooms.cli", *argv])


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_a_render_that_runs_out_of_room_says_so_and_resume_finishes_the_same_bytes(tmp_path):
    clip = ["render", "--frames", "6", "--size", "64x48", "--quiet"]
    straight = _cli(None, *clip, "--out", str(tmp_path / "straight"))
    assert straight.returncode == 0, straight.stderr
    wav = (tmp_path / "straight" / "clip.wav").stat().st_size
    out = tmp_path / "out"
    # every frame's PNG, sound and the MP4 fit; the clip's WAV, joined at the end, does not
    proc = _cli(wav - 1000, *clip, "--out", str(out))
    said = proc.stderr.splitlines()
    assert proc.returncode == 2, proc.stderr
    assert len(said) == 1 and said[0].startswith("backrooms: error: "), said
    assert "clip.wav: cannot write (File too large)" in said[0] and "--resume" in said[0]
    assert not list(out.rglob(".*tmp*")), "a temporary was left"
    for png in sorted((out / "frames").glob("*.png")):
        read_png(png)  # whole
    finished = _cli(None, *clip, "--out", str(out), "--resume")
    assert finished.returncode == 0, finished.stderr
    for name in ("clip.mp4", "clip.wav"):
        assert (out / name).read_bytes() == (tmp_path / "straight" / name).read_bytes(), name


def test_frame_out_of_room_leaves_no_truncated_arrays(tmp_path):
    whole = _cli(None, "frame", "--size", "64x48", "--out", str(tmp_path / "whole"))
    assert whole.returncode == 0, whole.stderr
    size = (tmp_path / "whole" / "aovs.npz").stat().st_size
    proc = _cli(size // 2, "frame", "--size", "64x48", "--out", str(tmp_path / "cut"))
    said = proc.stderr.splitlines()
    assert proc.returncode == 2 and len(said) == 1, proc.stderr
    assert "aovs.npz: cannot write" in said[0]
    assert list((tmp_path / "cut").iterdir()) == []  # before: half an aovs.npz


def test_weights_that_cannot_be_written_leave_the_old_model_whole(tmp_path):
    """Retraining into a model folder on a full disk: the old config and weights stay a pair."""
    script = textwrap.dedent(
        """
        import sys, torch
        from backrooms.diffusion.model import Denoiser, DenoiserConfig
        torch.manual_seed(int(sys.argv[2]))
        widths = tuple(int(w) for w in sys.argv[3].split(","))
        Denoiser(DenoiserConfig(widths=widths)).save_pretrained(sys.argv[1])
        """
    )
    folder = tmp_path / "model"
    made = _limited(None, ["-c", script, str(folder), "0", "8,16"])
    assert made.returncode == 0, made.stderr
    before = _digests(folder)
    weights = (folder / "model.safetensors").stat().st_size
    proc = _limited(weights + 4096, ["-c", script, str(folder), "1", "16,32"])  # a bigger model
    assert proc.returncode != 0 and "model.safetensors: cannot write (File too large)" in proc.stderr
    assert _digests(folder) == before  # before: the new config beside truncated weights


def test_a_stage_rewritten_without_room_keeps_the_stage_that_was_there(tmp_path):
    out = tmp_path / "walk.usda"
    first = _cli(None, "stage", "--region", "0,0,4,4", "--frames", "2", "--out", str(out))
    assert first.returncode == 0, first.stderr
    before = _digests(tmp_path)
    biggest = max(p.stat().st_size for p in (tmp_path / "walk_assets" / "prototypes").iterdir())
    # the prototypes fit; a chunk layer of the wider region does not
    proc = _cli(biggest + 1024, "stage", "--region", "0,0,48,48", "--frames", "2", "--out", str(out))
    said = proc.stderr.splitlines()
    assert proc.returncode == 2 and len(said) == 1, proc.stderr
    assert "walk.usda: cannot write (File too large)" in said[0]
    assert _digests(tmp_path) == before  # before: the old assets deleted, half a chunk written


def test_a_take_that_runs_out_of_room_ends_at_its_last_whole_line_and_the_show_goes_on(tmp_path):
    """``live --record`` on a disk that fills: the loop plays on (the tally says why the take
    stopped), and the take holds whole lines that replay the frames it reached."""
    script = textwrap.dedent(
        """
        import json, sys
        import numpy as np
        from backrooms.control.clock import FrameClock
        from backrooms.control.inbox import Inbox
        from backrooms.control.live import LiveLoop
        from backrooms.control.tally import Tally
        from backrooms.params import REGISTRY, ParamStore
        from backrooms.params.automation import Recorder
        from backrooms.params.smoothing import Smoother

        store = ParamStore(REGISTRY, {})
        start = store.snapshot()
        inbox = Inbox(start, FrameClock(240.0), Tally())
        loop = LiveLoop(store, inbox, Smoother(REGISTRY, start, 240.0, 0.0), lambda f, s: np.zeros((2, 2, 3)),
                        Recorder(sys.argv[1], {}, start))
        shown = {}
        def sink(frame, rgb, snapshot):
            shown[frame] = snapshot["decay.wear"]
            inbox.submit({"decay.wear": round(0.1 + 0.8 * ((frame * 7) % 11) / 11, 6)})
        loop.sinks.append(sink)
        loop.run(400)
        print(json.dumps({"shown": shown, "tally": inbox.tally.counts()}))
        """
    )
    take = tmp_path / "take.jsonl"
    proc = _limited(12_000, ["-c", script, str(take)])
    assert proc.returncode == 0, proc.stderr  # before: the loop died with OSError
    played = json.loads(proc.stdout)
    assert len(played["shown"]) == 400 and played["tally"] == {"take_not_written": 1}
    data = take.read_bytes()
    assert data.endswith(b"\n") and len(data) <= 12_000
    automation = load_automation(take)
    reached = automation.frames
    assert 10 < reached < 390
    wear = {int(f): v for f, v in played["shown"].items()}
    replayed = [automation.params_at(f)["decay.wear"] for f in range(reached)]
    assert replayed == [wear[f] for f in range(reached)]
    assert np.all(np.isfinite(list(wear.values())))


def test_a_write_no_atomic_writer_wraps_gets_the_commands_hint_too(tmp_path, monkeypatch, capsys):
    """An encoder's or a library's own write that fails for want of room reaches ``main`` as a plain
    OSError; it gets the same line as an atomic writer's, with the command's way to finish. (The
    command is a stand-in that raises what the encoder's write raised: the full disk is the point.)"""
    import errno

    from backrooms import cli

    def full_disk(args):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "clip.mp4"))

    monkeypatch.setattr(cli, "run_render", full_disk)
    assert cli.main(["render", "--out", str(tmp_path), "--frames", "2"]) == 2
    said = capsys.readouterr().err.splitlines()
    assert said == [
        f"backrooms: error: {tmp_path / 'clip.mp4'}: cannot write (No space left on device); "
        "the frames written are kept: make room and add --resume"
    ]
