"""Bad command-line input is one line on stderr and exit code 2, never a traceback."""

import subprocess
import sys

import pytest

from backrooms.cli import main


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["render", "--frames", "-3"], "--frames: must not be negative"),
        (["render", "--size", "320by240"], "size '320by240'"),
        (["render", "--size", "321x240"], "even number"),
        (["render", "--fps", "0"], "--fps: must be a positive number"),
        (["render", "--frames", "3", "--seconds", "2"], "not allowed with argument"),
        (["render", "--recipe", "/nonexistent/r.toml"], "cannot read recipe"),
        (["render", "--set", "decay.nonsense=1"], "unknown parameter 'decay.nonsense'"),
        (["render", "--frames", "0"], "nothing to render"),
        (["render", "--device", "tpu"], "invalid choice"),
        (["frobnicate"], "invalid choice"),
        (["params", "nonode"], "no parameters for node 'nonode'"),
        (["live", "--latency", "9"], "--latency 9: expected 0 to 8 frames"),
        (["live", "--latency", "-1"], "--latency: must not be negative"),
        (["render", "--fram", "3"], "unrecognized arguments: --fram"),  # no abbreviations
        (["render", "--fps", "1e9"], "--fps: 1000000000.0 is not a frame rate from 1 to 240"),
        (["render", "--seconds", "1e12"], "--seconds: must be at most 86400"),
        (["render", "--start", "2073600"], "--start: the clip would end 86405 s in, past a day"),
        (["render", "--seed", str(2**64)], "--seed: must be at most 18446744073709551615"),
        (["frame", "--out", "/tmp/never", "--frame", str(10**12)], "--frame: the clip would end"),
        (["train", "--minutes", "-1"], "--minutes -1.0: expected a number above 0"),
        (["train", "--lr", "nan"], "--lr nan: expected a number above 0"),
        (["train", "--eval-only", "--out", "/nonexistent/model"], "--out: no model folder"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_2(capsys, argv, fragment):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("backrooms: error:")
    assert fragment in err


@pytest.mark.parametrize("command", [["live", "--osc-port", "0", "--no-preview"], ["render", "--out", "OUT"]])
def test_a_neighbourhood_too_wide_is_refused_before_anything_opens(tmp_path, capsys, command):
    """``live`` printed its banner and ports before the first frame refused the world knobs."""
    out = tmp_path / "out"
    argv = [str(out) if a == "OUT" else a for a in command]
    assert main([*argv, "--set", "world.chunk_size=64", "--set", "world.load_radius=4"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert "world.chunk_size 64 at world.load_radius 4 loads 331,776 cells at once" in captured.err
    assert not out.exists()


def test_unwritable_output_is_refused_before_rendering(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert main(["render", "--frames", "1", "--size", "32x32", "--out", str(blocker / "out")]) == 2
    assert "not writable" in capsys.readouterr().err


def test_console_script_reports_errors_without_traceback():
    proc = subprocess.run(
        [sys.executable, "-m", "backrooms.cli", "render", "--size", "0x0"], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().startswith("backrooms: error: size '0x0'")


def test_params_json_lists_every_knob_with_its_osc_address(capsys):
    import json

    assert main(["params", "--json"]) == 0
    table = json.loads(capsys.readouterr().out)
    keys = {p["key"] for p in table}
    assert {"decay.noise", "diffusion.strength"} <= keys
    for p in table:
        assert p["osc_address"] == "/backrooms/" + p["key"].replace(".", "/", 1)


def test_a_binary_recipe_is_one_line(tmp_path, capsys):
    recipe = tmp_path / "recipe.toml"
    recipe.write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff\xfe" * 20)
    assert main(["render", "--recipe", str(recipe), "--frames", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a text file" in err


def test_params_json_into_a_closed_pipe_stops_quietly():
    proc = subprocess.Popen(
        [sys.executable, "-m", "backrooms.cli", "params", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.close()  # the reader is gone before a byte is written, as with `| head -c0`
    err = proc.stderr.read().decode()
    assert proc.wait(60) == 141
    assert "Traceback" not in err and "BrokenPipe" not in err


def test_a_stage_under_a_file_is_one_line(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    out = tmp_path / "file" / "s.usda"
    assert main(["stage", "--region", "0,0,2,2", "--frames", "2", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot write" in err


NOBODY = 65534
PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 24, 1, 2


def _drop_file_privileges() -> None:
    """Before exec: root's child keeps uid 0 but loses the capabilities that ignore file modes."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _as_unprivileged() -> dict:
    """subprocess.run arguments that make file modes bind: as root, the user nobody where it can run
    this interpreter, else root without the file-permission capabilities (a venv under /root)."""
    import os

    if os.geteuid() != 0:
        return {}
    nobody = {"user": NOBODY, "group": NOBODY, "extra_groups": []}
    try:
        subprocess.run([sys.executable, "-c", "import backrooms"], check=True, capture_output=True, **nobody)
        return nobody
    except (PermissionError, subprocess.CalledProcessError):
        return {"preexec_fn": _drop_file_privileges}


def test_a_stage_into_a_read_only_folder_is_one_line():
    """A real permission refusal even in CI, which runs as root (root writes into read-only folders):
    the command runs unprivileged, in a folder under /tmp it can reach (pytest's tmp_path sits in a
    folder only its owner may enter)."""
    import os
    import tempfile

    with tempfile.TemporaryDirectory() as top:
        os.chmod(top, 0o755)
        home = os.path.join(top, "home")
        os.mkdir(home)
        os.chmod(home, 0o777)
        folder = os.path.join(top, "ro")
        os.mkdir(folder)
        os.chmod(folder, 0o555)
        out = os.path.join(folder, "s.usda")
        env = {**os.environ, "HOME": home, "XDG_CACHE_HOME": home}
        stage = ["stage", "--region", "0,0,2,2", "--frames", "2", "--out", out]
        argv = [sys.executable, "-m", "backrooms.cli", *stage]
        try:
            drop = _as_unprivileged()
            proc = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=top, **drop)
        except (OSError, subprocess.SubprocessError) as exc:
            pytest.skip(f"cannot drop privileges here: {exc}")
        assert os.listdir(folder) == []
    lines = [line for line in proc.stderr.splitlines() if not line.startswith("Warp")]
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1 and "cannot write" in lines[0], lines


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "not a valid usda layer"),
        (b"#usda 1.0\ndef Xform {{{ garbage", "parse error"),
        (bytes(range(256)) * 8, "corrupt"),
    ],
)
def test_a_bad_usd_stage_is_one_line_with_usd_s_reason_and_no_usd_chatter(tmp_path, capfd, content, reason):
    stage = tmp_path / ("stage.usdc" if reason == "corrupt" else "stage.usda")
    stage.write_bytes(content)
    assert main(["frame", "--stage", str(stage), "--out", str(tmp_path / "out")]) == 2
    lines = [line for line in capfd.readouterr().err.splitlines() if not line.startswith("Warp")]
    assert len(lines) == 1 and "cannot open" in lines[0] and reason in lines[0], lines


def test_usd_warnings_while_opening_a_stage_are_not_printed(tmp_path, capfd):
    stage = tmp_path / "stage.usda"
    stage.write_text('#usda 1.0\ndef Xform "a" (\n    prepend references = @missing.usda@\n)\n{\n}\n')
    assert main(["frame", "--stage", str(stage), "--out", str(tmp_path / "out")]) == 2
    lines = [line for line in capfd.readouterr().err.splitlines() if not line.startswith("Warp")]
    assert len(lines) == 1 and "no camera" in lines[0], lines


def test_a_size_that_cannot_fit_in_memory_is_refused_before_rendering(tmp_path, capsys):
    from backrooms.graph.memory import machine_bytes, needed_bytes

    if machine_bytes() is None or needed_bytes(8192, 8192) <= machine_bytes():
        pytest.skip("this machine has the memory for 8192x8192")
    out = tmp_path / "out"
    assert main(["render", "--size", "8192x8192", "--frames", "1", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "GiB of memory" in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("flag", "value", "fragment"),
    [
        ("--lr", "-1", "--lr -1.0: expected a number above 0"),
        ("--strength", "2", "--strength 2.0: expected a number from 0 to 1"),
        ("--vhs-weight", "nan", "--vhs-weight nan: expected a number from 0 up"),
    ],
)
def test_tune_names_a_number_out_of_range_before_loading_anything(tmp_path, capsys, flag, value, fragment):
    (tmp_path / "model_index.json").write_text("{}")  # passes the folder check; never loaded
    assert main(["tune", "--base", str(tmp_path), flag, value, "--data", str(tmp_path / "data")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and fragment in err
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize("workers", [[], ["--workers", "2"]])
def test_a_quiet_render_says_nothing_on_stderr(tmp_path, workers):
    """Warp's native line about a missing CUDA driver is not ours to print on a CPU machine, nor are
    its banner and module-load lines from the render's worker processes (37 lines with two)."""
    argv = ["render", "--frames", "2", "--size", "32x32", "--quiet", "--out", str(tmp_path / "out"), *workers]
    proc = subprocess.run([sys.executable, "-m", "backrooms.cli", *argv], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr


@pytest.mark.parametrize("backend", ["tensorrt", "onnx"])
def test_a_backend_says_only_its_own_line(tmp_path, backend):
    """A backend that cannot load is one line, before any ONNX export; one that loads exports the
    graph without torch's exporter warnings (six lines on stderr before the error, before)."""
    from backrooms.diffusion.backends.tensorrt_backend import tensorrt_available

    if backend == "tensorrt" and tensorrt_available():
        pytest.skip("TensorRT is installed: the backend would load")
    out = tmp_path / "out"
    argv = ["render", "--frames", "1", "--size", "32x32", "--quiet", "--out", str(out)]
    argv += ["--set", f"diffusion.backend={backend}"]
    proc = subprocess.run([sys.executable, "-m", "backrooms.cli", *argv], capture_output=True, text=True)
    if backend == "tensorrt":
        assert proc.returncode == 2
        assert proc.stderr == (
            "backrooms: error: diffusion.backend=tensorrt: the tensorrt package is not installed "
            "(pip install tensorrt)\n"
        )
    else:
        assert proc.returncode == 0 and proc.stderr == "", proc.stderr


def test_starting_warp_passes_on_everything_but_the_missing_driver_line(monkeypatch, capfd):
    import os

    import warp as wp

    from backrooms import warp_start
    from backrooms.warp_start import NO_DRIVER, start_warp

    def init() -> None:  # stands in for Warp's native start, which writes to fd 2 from C
        os.write(2, f"{NO_DRIVER} GPU execution will not be available.\n".encode())
        os.write(2, b"Warp CUDA error: something else\n")

    monkeypatch.setattr(wp, "init", init)
    monkeypatch.setattr(warp_start, "_started", False)
    start_warp()
    start_warp()  # once a process
    assert capfd.readouterr().err == "Warp CUDA error: something else\n"


def test_the_help_and_argument_errors_come_without_importing_torch():
    """Every command's flags are built before anything runs; ``tune``'s defaults once came from its
    torch module, so ``backrooms --help`` and any argument error took 2.8 s instead of 0.7."""
    script = (
        "import sys; from backrooms.cli import build_parser; build_parser(); print('torch' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
