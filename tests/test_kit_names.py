"""Only backrooms.kit touches Omniverse, and every omni.* / carb name it touches is in docs/kit.md."""

import ast
import subprocess
from pathlib import Path

import pytest

from kit_standin.calls import kit_imports
from kit_standin.signatures import API

ROOT = Path(__file__).resolve().parents[1]
KIT = ROOT / "exts" / "backrooms" / "kit"
# Modules of backrooms.kit that must import without Kit (the tested, Kit-free half).
KIT_FREE = ("settings", "chain", "live", "output", "osc", "walk")
# The stand-in builds modules named omni.*; it imports none.
STAND_IN = ROOT / "tests" / "kit_standin"


def tracked_python_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [ROOT / name for name in listed if (ROOT / name).is_file()]


def test_every_recorded_kit_name_is_in_the_docs_table():
    documented = (ROOT / "docs" / "kit.md").read_text()
    missing = sorted(name for name in API if f"| `{name}` |" not in documented)
    assert missing == []


def test_no_module_outside_backrooms_kit_imports_omni_or_carb():
    files = tracked_python_files()
    assert any(path.parent == KIT for path in files)  # the scan sees the repository
    offenders = [
        str(path.relative_to(ROOT))
        for path in files
        if KIT not in path.parents and STAND_IN not in path.parents
        if kit_imports(ast.parse(path.read_text()))
    ]
    assert offenders == []


@pytest.mark.parametrize("name", KIT_FREE)
def test_kit_free_modules_of_the_adapter_import_no_omni(name):
    assert kit_imports(ast.parse((KIT / f"{name}.py").read_text())) == {}
