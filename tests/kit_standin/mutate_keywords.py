"""Misspell every keyword of every Kit call in backrooms.kit, one at a time, and run the kit tests.

    PYTHONPATH=exts:tests python tests/kit_standin/mutate_keywords.py [pytest args]

For each keyword argument of each call that resolves to an omni.* / carb / rep.* / ui.* name
(``kit_standin.calls``), the keyword is rewritten in place (``max_execs=`` -> ``max_execS=``), the kit
tests run (stopping at the first failure), and the file is restored. A mutation no test notices is
printed; the exit status is 1 if there is any. Takes a few minutes (most misspellings fail the static
signature test within seconds).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from kit_standin.calls import kit_calls

ROOT = Path(__file__).resolve().parents[2]
KIT = ROOT / "exts" / "backrooms" / "kit"
TESTS = [
    "tests/test_kit_signatures.py",
    "tests/test_kit_extension.py",
    "tests/test_kit_writer.py",
    "tests/test_kit_batch.py",
    "tests/test_kit_versions.py",
]


def keywords() -> list[tuple[Path, int, int, str]]:
    """(file, line, column, keyword) of every keyword argument of a Kit call."""
    found = []
    for path in sorted(KIT.rglob("*.py")):
        for call in kit_calls(path):
            for keyword in call.node.keywords:
                if keyword.arg is not None:
                    found.append((path, keyword.lineno, keyword.col_offset, keyword.arg))
    return found


def misspelt(name: str) -> str:
    return name[:-1] + name[-1].upper()  # never another parameter's name: they are lower case


def mutate(path: Path, line: int, column: int, name: str) -> str:
    original = path.read_text()
    lines = original.splitlines(keepends=True)
    text = lines[line - 1]
    assert text[column : column + len(name)] == name, (path, line, name)
    lines[line - 1] = text[:column] + misspelt(name) + text[column + len(name) :]
    path.write_text("".join(lines))
    return original


def main(extra: list[str]) -> int:
    missed = []
    targets = keywords()
    for path, line, column, name in targets:
        original = mutate(path, line, column, name)
        try:
            result = subprocess.run(
                [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *TESTS, *extra],
                cwd=ROOT,
                capture_output=True,
                text=True,
            )
        finally:
            path.write_text(original)
        where = f"{path.relative_to(ROOT)}:{line} {name}= -> {misspelt(name)}="
        print(("caught " if result.returncode else "MISSED ") + where, flush=True)
        if result.returncode == 0:
            missed.append(where)
    print(f"{len(targets) - len(missed)} of {len(targets)} misspelt keywords made a kit test fail")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
