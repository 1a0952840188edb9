"""A thread-safe home for live values that hands each frame one consistent snapshot."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import Any

from backrooms.params.registry import REGISTRY, Registry

Listener = Callable[[dict[str, Any]], None]


class Snapshot(Mapping[str, Any]):
    """An immutable view of every parameter at one instant (``snap["decay.noise"]``)."""

    def __init__(self, values: dict[str, Any], version: int) -> None:
        self._values = MappingProxyType(dict(values))
        self.version = version

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def node(self, node: str) -> dict[str, Any]:
        """The values of one node, keyed by bare parameter name."""
        prefix = node + "."
        return {k[len(prefix) :]: v for k, v in self._values.items() if k.startswith(prefix)}


class ReadLog(Snapshot):
    """A snapshot that notes which knobs were read, so a result made from it can be kept while
    those knobs hold their values (the pipelined executor's frame traced ahead)."""

    def __init__(self, snapshot: Snapshot) -> None:
        super().__init__(snapshot._values, snapshot.version)
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> Any:
        self.read.add(key)
        return super().__getitem__(key)

    def __iter__(self) -> Iterator[str]:
        self.read.update(self._values)  # whoever iterates may read any value
        return super().__iter__()

    def node(self, node: str) -> Mapping[str, Any]:
        return _NodeReads(self, node, super().node(node))

    def still_holds(self, params: Snapshot) -> bool:
        """Whether every knob read so far has the same value in ``params``."""
        missing = object()  # a knob read but absent (``get`` with a default) must stay absent
        return all(params.get(key, missing) == self._values.get(key, missing) for key in self.read)


class _NodeReads(Mapping[str, Any]):
    """One node's values (``ReadLog.node``) that note each value read into the log."""

    def __init__(self, log: ReadLog, node: str, values: dict[str, Any]) -> None:
        self._log, self._prefix, self._values = log, node + ".", values

    def __getitem__(self, name: str) -> Any:
        self._log.read.add(self._prefix + name)
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        self._log.read.update(self._prefix + name for name in self._values)
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


class ParamStore:
    """Current values of all registered parameters; writes are validated and all-or-nothing."""

    def __init__(self, registry: Registry = REGISTRY, values: Mapping[str, Any] | None = None) -> None:
        self.registry = registry
        self._lock = threading.Lock()
        self._values = registry.defaults()
        self._version = 0
        self._listeners: list[Listener] = []
        if values:
            self.update(values)

    def update(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Validate every value first, then apply them together; returns the applied changes."""
        checked = {key: self.registry[key].coerce(value) for key, value in values.items()}
        with self._lock:
            changed = {k: v for k, v in checked.items() if self._values[k] != v}
            if changed:
                self._values.update(changed)
                self._version += 1
            listeners = list(self._listeners)
        for listener in listeners:
            if changed:
                listener(changed)
        return changed

    def set(self, key: str, value: Any) -> None:
        self.update({key: value})

    def get(self, key: str) -> Any:
        self.registry[key]
        with self._lock:
            return self._values[key]

    def snapshot(self) -> Snapshot:
        with self._lock:
            return Snapshot(self._values, self._version)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(changes)`` after each applied update; returns an unsubscribe function."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe
