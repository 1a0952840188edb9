"""Only backrooms.kit touches Omniverse, and every omni.* / carb name it touches is documented."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "exts" / "backrooms"
KIT = PACKAGE / "kit"
KIT_ROOTS = ("omni", "carb")
# Modules of backrooms.kit that must import without Kit (the tested, Kit-free half).
KIT_FREE = ("settings", "chain", "live", "output", "osc", "walk")
# docs/kit.md writes the two big modules by their usual aliases.
SHORT = {"omni.replicator.core": "rep", "omni.ui": "ui"}


def kit_imports(tree: ast.AST) -> dict[str, str]:
    """Local name -> module for every import of omni.* or carb.*."""
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in KIT_ROOTS:
                    root = alias.name.split(".")[0]
                    aliases[alias.asname or root] = alias.name if alias.asname else root
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in KIT_ROOTS:
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return aliases


def dotted(node: ast.AST, aliases: dict[str, str]) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in aliases:
        return None
    name = ".".join([aliases[node.id], *reversed(parts)])
    for module, short in SHORT.items():
        if name == module or name.startswith(module + "."):
            return short + name[len(module) :]
    return name


def used_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    aliases = kit_imports(tree)
    names = {dotted(node, aliases) for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    names.discard(None)
    return {n for n in names if not any(other.startswith(n + ".") for other in names)}


ADAPTER_SOURCES = sorted(KIT.rglob("*.py")) + sorted((ROOT / "examples").glob("*.py"))


@pytest.mark.parametrize("source", ADAPTER_SOURCES, ids=lambda p: p.name)
def test_every_omni_name_the_adapter_uses_is_listed_in_docs_kit_md(source):
    documented = (ROOT / "docs" / "kit.md").read_text()
    missing = sorted(name for name in used_names(source) if f"`{name}`" not in documented)
    assert missing == [], f"{source.name} uses undocumented names: {missing}"


def test_the_scan_finds_the_names_the_extension_uses():
    names = used_names(KIT / "augment.py")
    assert {
        "rep.annotators.Augmentation.from_function",
        "rep.AnnotatorRegistry.unregister_annotator",
    } <= names


def test_no_module_outside_backrooms_kit_imports_omni_or_carb():
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if KIT not in path.parents and kit_imports(ast.parse(path.read_text()))
    ]
    assert offenders == []


def test_kit_free_modules_of_the_adapter_import_no_omni():
    offenders = [name for name in KIT_FREE if kit_imports(ast.parse((KIT / f"{name}.py").read_text()))]
    assert offenders == []
