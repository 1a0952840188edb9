"""Every omni.* / carb / rep.* / ui.* call in backrooms.kit, checked against the recorded real signatures.

The adapter's source is parsed, not imported: each call is resolved through its import aliases (and,
for methods of objects Kit returns, through the assignments that keep them) and bound against the
signature in ``kit_standin.signatures`` (read from Replicator's, omni.ui's and Kit's public sources;
each entry names its source). A misspelt keyword, a wrong argument count or a name that a documented
Replicator version does not have fails here, including in code that only runs inside Kit.
"""

import ast
import inspect
from pathlib import Path

import pytest

from kit_standin.calls import ATTRIBUTES, kit_calls, kit_references, registered_randomizers
from kit_standin.signatures import API, SOURCES, VERSIONS, Api, table

ROOT = Path(__file__).resolve().parents[1]
KIT = ROOT / "exts" / "backrooms" / "kit"
ADAPTER = sorted(KIT.rglob("*.py"))
RANDOMIZERS = set().union(*(registered_randomizers(p) for p in ADAPTER))
# Version differences the adapter handles at run time (tests/test_kit_versions.py runs each one):
# there the older call shape is tried after the current one fails with TypeError.
FALLBACKS = {
    "on_frame-num_frames": {"rep.trigger.on_frame"},
    "annotator-no-device": {"rep.AnnotatorRegistry.get_annotator"},
}


def problem(name: str, node: ast.Call, api: Api | None) -> str | None:
    """Why this call would fail against ``api`` (None: it binds)."""
    if name.startswith("rep.randomizer.") and name.rsplit(".", 1)[1] in RANDOMIZERS:
        return None
    if api is None:
        return f"{name} does not exist"
    signature = api.signature
    if next(iter(signature.parameters), None) == "self":  # a method, called on its object
        signature = signature.replace(parameters=list(signature.parameters.values())[1:])
    keywords = [k.arg for k in node.keywords]
    starred = any(isinstance(a, ast.Starred) for a in node.args) or None in keywords
    arguments = {k: None for k in keywords if k is not None}
    try:
        if starred:
            signature.bind_partial(**arguments)
        else:
            signature.bind(*[None] * len(node.args), **arguments)
    except TypeError as error:
        return f"{name}: {error}"
    var_keyword = [p for p in signature.parameters.values() if p.kind is inspect.Parameter.VAR_KEYWORD]
    if api.keywords is not None and var_keyword:
        named = {p.name for p in signature.parameters.values()}
        unknown = sorted(set(arguments) - named - api.keywords)
        if unknown:
            return f"{name}: undocumented keyword {unknown[0]!r}"
    return None


def problems(path: Path, version: str = "current") -> list[str]:
    names = table(version)
    found = []
    for call in kit_calls(path):
        reason = problem(call.name, call.node, names.get(call.name))
        if reason:
            found.append(f"{path.name}:{call.node.lineno}: {reason}")
    return found


@pytest.mark.parametrize("source", ADAPTER, ids=lambda p: str(p.relative_to(KIT)))
def test_every_kit_call_binds_to_the_recorded_signature(source):
    assert problems(source) == []


@pytest.mark.parametrize("version", [v for v in VERSIONS if v != "current"])
def test_each_documented_version_breaks_only_calls_the_adapter_falls_back_from(version):
    broken = {line.split(": ")[1].split(":")[0] for p in ADAPTER for line in problems(p, version)}
    broken = {name.split(" ")[0] for name in broken}
    assert broken <= FALLBACKS.get(version, set())


@pytest.mark.parametrize("source", ADAPTER, ids=lambda p: str(p.relative_to(KIT)))
def test_every_kit_name_the_adapter_reads_exists(source):
    unknown = sorted(
        f"{node.lineno}: {name}"
        for node, name in kit_references(source)
        if name not in API
        and name not in ATTRIBUTES
        and not any(key.startswith(name + ".") for key in API)
        and not (name.startswith("rep.randomizer.") and name.rsplit(".", 1)[1] in RANDOMIZERS)
    )
    assert unknown == []


def test_the_check_fails_on_a_misspelt_keyword_an_extra_argument_and_an_absent_name(tmp_path):
    source = tmp_path / "bad.py"
    source.write_text(
        "import omni.replicator.core as rep\nimport omni.ui as ui\nimport omni.kit.app\n"
        "rep.trigger.on_frame(max_exec=3)\n"
        "rep.WriterRegistry.unregister_writer('W')\n"
        "ui.VStack(spacng=4)\n"
        "omni.kit.app.get_app().post_quit(0, 1)\n"
        "rep.annotators.augment_compose(source_annotator=None, augmentations=[])\n"
    )
    found = problems(source, "no-augment_compose")
    assert [line.split(": ", 1)[1].split(":")[0].split(" ")[0] for line in found] == [
        "rep.trigger.on_frame",
        "rep.WriterRegistry.unregister_writer",
        "ui.VStack",
        "omni.kit.app.IApp.post_quit",
        "rep.annotators.augment_compose",
    ]


def test_the_resolver_follows_returned_objects():
    names = {call.name for call in kit_calls(KIT / "extension.py")}
    assert {
        "omni.kit.app.IApp.get_update_event_stream",
        "carb.events.IEventStream.create_subscription_to_pop",
    } <= names
    assert "ui.ByteImageProvider.set_bytes_data_from_gpu" in {c.name for c in kit_calls(KIT / "panel.py")}


def test_every_recorded_signature_names_a_source_and_parses():
    entries = list(API.items()) + [(n, a) for v in VERSIONS.values() for n, a in v.items() if a]
    for name, api in entries:
        assert api.source in SOURCES, name
        assert isinstance(api.signature, inspect.Signature)
    assert {grade for grade, _ in SOURCES.values()} <= {"source", "docs", "notes"}


def test_writer_initialize_keywords_are_parameters_of_backrooms_writer():
    """``Writer.initialize(**kwargs)`` runs the writer's ``__init__``: its keywords are ours to check."""
    tree = ast.parse((KIT / "writer.py").read_text())
    init = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "__init__")
    params = {a.arg for a in init.args.args[1:] + init.args.kwonlyargs}
    used = [
        (call.path.name, call.node.lineno, keyword.arg)
        for path in ADAPTER
        for call in kit_calls(path)
        if call.name == "rep.Writer.initialize"
        for keyword in call.node.keywords
    ]
    assert used and [u for u in used if u[2] not in params] == []
