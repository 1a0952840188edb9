"""Static checks of the Kit manifest and build glue (nothing here needs Kit)."""

import dataclasses
import re
import tomllib
from pathlib import Path

import pytest

from backrooms.errors import UserError
from backrooms.kit.settings import EXTENSION, PREFIX, KitSettings

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def manifest():
    return tomllib.loads((ROOT / "extension.toml").read_text())


def test_python_module_path_holds_the_module_package(manifest):
    (module,) = manifest["python"]["module"]
    package = ROOT / module["path"] / Path(*module["name"].split("."))
    assert (package / "__init__.py").is_file()
    assert "IExt" in (package / "extension.py").read_text()


def test_dependencies_name_replicator_warp_and_uiapp_with_omni_ui_optional(manifest):
    deps = manifest["dependencies"]
    assert {"omni.replicator.core", "omni.warp.core", "omni.kit.uiapp"} <= deps.keys()
    assert deps["omni.ui"] == {"optional": True}


def test_settings_defaults_are_the_settings_dataclass_defaults(manifest):
    declared = manifest["settings"]["exts"][EXTENSION]
    assert declared == dataclasses.asdict(KitSettings())


def test_headless_test_section_runs_without_window_and_async_rendering(manifest):
    (test,) = manifest["test"]
    assert {"--no-window", "--/app/asyncRendering=false", "--/exts/backrooms/panel=false"} <= set(
        test["args"]
    )


# What Kit or its extensions ship (numpy, pxr via usd-core, warp via omni.warp.core).
KIT_SHIPS = {"numpy", "usd-core", "warp-lang"}


def test_pip_requirements_are_pyprojects_pins_for_what_kit_does_not_ship(manifest):
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    expected = [r for r in project if re.split(r"[<>=]", r)[0] not in KIT_SHIPS]
    assert manifest["python"]["pipapi"]["requirements"] == expected
    assert {"torch", "av", "python-osc", "pillow", "safetensors"} <= {
        re.split(r"[<>=]", r)[0] for r in expected
    }
    assert manifest["python"]["pipapi"]["use_online_index"] is True


def test_premake_links_folders_that_exist():
    linked = re.findall(r'\{\s*"([^"]+)",\s*ext\.target_dir', (ROOT / "premake5.lua").read_text())
    assert {"exts", "usd", "models"} <= set(linked)
    assert all((ROOT / name).exists() for name in linked)


def test_settings_read_takes_carb_values_and_keeps_defaults_for_unset_keys():
    values = {f"{PREFIX}/osc_port": 9100, f"{PREFIX}/panel": "false", f"{PREFIX}/fps": 30}
    settings = KitSettings.read(values.get)
    assert (settings.osc_port, settings.panel, settings.fps, settings.seed) == (9100, False, 30.0, 0)


def test_settings_read_names_the_key_of_a_wrong_value():
    with pytest.raises(UserError, match="/exts/backrooms/osc_port: expected int"):
        KitSettings.read({f"{PREFIX}/osc_port": "nine"}.get)


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("frames", 0, "frames: expected at least 1, got 0"),
        ("start", -1, "start: expected at least 0"),
        ("fps", 0, "fps: 0.0 is not a frame rate from 1 to 240"),
        ("seed", 2**64, "seed: 18446744073709551616 is too large"),
        ("osc_port", 70000, "osc_port: 70000 is too large"),
        ("preview_width", 641, "each side must be an even number"),
        ("start", 2073600, "past a day of footage"),
    ],
)
def test_settings_a_headless_batch_could_not_finish_are_refused_by_name(name, value, says):
    with pytest.raises(UserError, match=f"setting {PREFIX}/{name}") as info:
        KitSettings.read({f"{PREFIX}/{name}": value}.get)
    assert says in str(info.value)
