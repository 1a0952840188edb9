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
    ],
)
def test_bad_arguments_give_one_line_and_exit_2(capsys, argv, fragment):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("backrooms: error:")
    assert fragment in err


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
