"""Find every omni.* / carb / rep.* / ui.* call in the adapter's source, by name, without importing it.

Names are resolved through the module's import aliases (``import omni.replicator.core as rep``) and,
for methods of objects Kit hands back, through ``RETURNS`` (what each call returns) and the plain
assignments that keep those objects (``x = ...``, ``self.x = ...``, ``with ... as x``). What cannot be
resolved statically (models of widgets built in a helper, loop variables) is checked at run time by
the stand-in instead.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOTS = ("omni", "carb")
SHORT = {"omni.replicator.core": "rep", "omni.ui": "ui"}

# Call -> the type (a table prefix) of what it returns, for method calls on the result.
RETURNS = {
    "omni.kit.app.get_app": "omni.kit.app.IApp",
    "omni.kit.app.IApp.get_update_event_stream": "carb.events.IEventStream",
    "carb.events.IEventStream.create_subscription_to_pop": "carb.events.ISubscription",
    "carb.settings.get_settings": "carb.settings.ISettings",
    "omni.usd.get_context": "omni.usd.UsdContext",
    "rep.create.render_product": "rep.RenderProduct",
    "rep.AnnotatorRegistry.get_annotator": "rep.Annotator",
    "rep.annotators.get": "rep.Annotator",
    "rep.WriterRegistry.get": "rep.Writer",
    "rep.get.prims": "rep.ReplicatorItem",
    "ui.Window": "ui.Window",
    "ui.DynamicTextureProvider": "ui.ByteImageProvider",
    "ui.ByteImageProvider": "ui.ByteImageProvider",
}
# Attributes (not calls) of returned objects the adapter reads.
ATTRIBUTES = {"ui.Window.frame", "rep.ReplicatorItem.node"}


@dataclass(frozen=True)
class KitCall:
    path: Path
    node: ast.Call
    name: str  # table name, e.g. "rep.trigger.on_frame" or "omni.kit.app.IApp.post_quit"


def short(name: str) -> str:
    for module, alias in SHORT.items():
        if name == module or name.startswith(module + "."):
            return alias + name[len(module) :]
    return name


def kit_imports(tree: ast.AST) -> dict[str, str]:
    """Local name -> module path for every import of omni.* or carb.*."""
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                root = alias.name.split(".")[0]
                if root in ROOTS:
                    aliases[alias.asname or root] = alias.name if alias.asname else root
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in ROOTS:
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return aliases


class Resolver:
    """Names of expressions in one module: import aliases, then typed variables."""

    def __init__(self, tree: ast.AST) -> None:
        self.aliases = kit_imports(tree)
        self.types: dict[str, str] = {}  # "x" or "self.x" -> type prefix
        for node in ast.walk(tree):  # two passes so later uses see earlier assignments in any order
            self._learn(node)
        for node in ast.walk(tree):
            self._learn(node)

    def _key(self, target: ast.AST) -> str | None:
        if isinstance(target, ast.Name):
            return target.id
        is_self = isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
        if is_self and target.value.id == "self":
            return f"self.{target.attr}"
        return None

    def _learn(self, node: ast.AST) -> None:
        pairs: list[tuple[ast.AST, ast.AST]] = []
        if isinstance(node, ast.Assign):
            pairs = [(t, node.value) for t in node.targets]
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            pairs = [(node.optional_vars, node.context_expr)]
        for target, value in pairs:
            key, kind = self._key(target), self.type_of(value)
            if key and kind:
                self.types[key] = kind

    def dotted(self, node: ast.AST) -> str | None:
        """The Kit name an expression refers to (``rep.trigger.on_frame``), or None."""
        parts = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        parts.reverse()
        if isinstance(node, ast.Name) and node.id in self.aliases:
            return short(".".join([self.aliases[node.id], *parts]))
        if isinstance(node, ast.Name) and parts and node.id in self.types:
            return ".".join([self.types[node.id], *parts])
        if isinstance(node, ast.Name) and node.id == "self" and len(parts) > 1:
            kind = self.types.get(f"self.{parts[0]}")
            return ".".join([kind, *parts[1:]]) if kind else None
        if isinstance(node, ast.Call) and parts:
            kind = self.type_of(node)
            return ".".join([kind, *parts]) if kind else None
        return None

    def type_of(self, node: ast.AST) -> str | None:
        if isinstance(node, ast.Call):
            name = self.dotted(node.func)
            return RETURNS.get(name) if name else None
        if isinstance(node, ast.Name):
            return self.types.get(node.id)
        return None


def kit_calls(path: Path) -> Iterator[KitCall]:
    """Every call in ``path`` whose callee resolves to a Kit name."""
    tree = ast.parse(path.read_text())
    resolver = Resolver(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = resolver.dotted(node.func)
            if name:
                yield KitCall(path, node, name)


def kit_references(path: Path) -> Iterator[tuple[ast.AST, str]]:
    """Every attribute reference (called or not) that resolves to a Kit name, outermost only."""
    tree = ast.parse(path.read_text())
    resolver = Resolver(tree)
    inner = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            if id(node) in inner:
                continue
            value = node.value
            while isinstance(value, ast.Attribute):
                inner.add(id(value))
                value = value.value
            name = resolver.dotted(node)
            if name:
                yield node, name


def registered_randomizers(path: Path) -> set[str]:
    """Function names passed to ``rep.randomizer.register`` in ``path`` (Replicator adds them as
    ``rep.randomizer.<name>``), following a ``fn.__name__ = CONSTANT`` rename in the same module."""
    tree = ast.parse(path.read_text())
    constants = {
        t.id: n.value.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Assign) and isinstance(n.value, ast.Constant)
        for t in n.targets
        if isinstance(t, ast.Name)
    }
    renamed = {
        t.value.id: constants.get(n.value.id, t.value.id)
        for n in ast.walk(tree)
        if isinstance(n, ast.Assign) and isinstance(n.value, ast.Name)
        for t in n.targets
        if isinstance(t, ast.Attribute) and t.attr == "__name__" and isinstance(t.value, ast.Name)
    }
    names = set()
    for call in kit_calls(path):
        if call.name == "rep.randomizer.register" and call.node.args:
            arg = call.node.args[0]
            if isinstance(arg, ast.Name):
                names.add(renamed.get(arg.id, arg.id))
    return names
