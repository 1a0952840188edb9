"""A RECORDING STAND-IN for the omni.* / carb modules the Kit adapter calls. NOT Omniverse.

Kit and Replicator cannot be installed on the machines this project is built on. This stand-in
implements only the documented names the adapter uses (see docs/kit.md, with sources), records
every call, and tracks what was acquired and released (render products, annotator attachments,
windows, subscriptions, widget callbacks, registrations). It checks the adapter's wiring, never
Replicator's behaviour: a test that passes here says nothing about RTX, OmniGraph or omni.ui.
"""

from __future__ import annotations

import contextlib
import sys
import types
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np


class Recorder:
    """Every call as ``(name, args, kwargs)``, plus the live/released state of handles."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple, dict]] = []
        self.handles: list[Handle] = []
        self.settings: dict[str, Any] = {}
        self.annotator_data: dict[str, Any] = {}

    def record(self, call: str, /, *args: Any, **kwargs: Any) -> None:
        self.calls.append((call, args, kwargs))

    def called(self, name: str) -> list[tuple[tuple, dict]]:
        return [(args, kwargs) for call, args, kwargs in self.calls if call == name]

    def live(self, kind: str | None = None) -> list[Handle]:
        return [h for h in self.handles if not h.released and kind in (None, h.kind)]

    def made(self, kind: str) -> list[Handle]:
        return [h for h in self.handles if h.kind == kind]


class Handle:
    """Something acquired that must be given back (``release_name`` is the documented release call)."""

    def __init__(self, recorder: Recorder, kind: str, **info: Any) -> None:
        self.recorder, self.kind, self.info, self.released = recorder, kind, info, False
        recorder.handles.append(self)

    def release(self) -> None:
        assert not self.released, f"{self.kind} {self.info} released twice"
        self.released = True


def _fn(rec: Recorder, call_name: str, result: Any = None) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        rec.record(call_name, *args, **kwargs)
        return result(*args, **kwargs) if callable(result) else result

    return call


@contextlib.contextmanager
def _scope(rec: Recorder, call: str, /, *args: Any, **kwargs: Any) -> Iterator[None]:
    rec.record(call, *args, **kwargs)
    yield
    rec.record(f"{call}:exit")


# ---- omni.replicator.core -------------------------------------------------------------------


class _RenderProduct(Handle):
    def __init__(self, rec: Recorder, camera: Any, resolution: tuple, name: str | None = None) -> None:
        super().__init__(rec, "render_product", camera=camera, resolution=resolution, name=name)
        self.path = f"/Render/{name or 'RenderProduct'}"

    def destroy(self) -> None:
        self.recorder.record("rp.destroy", self.path)
        self.release()


class _Annotator:
    def __init__(self, rec: Recorder, name: str, kwargs: dict) -> None:
        self.rec, self.name, self.kwargs, self.attachment = rec, name, kwargs, None

    def attach(self, render_products: Any) -> None:
        self.rec.record("annotator.attach", self.name, render_products)
        self.attachment = Handle(self.rec, "annotator_attachment", name=self.name)

    def detach(self) -> None:
        self.rec.record("annotator.detach", self.name)
        self.attachment.release()

    def get_data(self) -> Any:
        return self.rec.annotator_data.get(self.name, np.zeros((0,), np.uint8))


class _Prims:
    node = "prims-node"

    def __enter__(self) -> _Prims:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def _replicator(rec: Recorder) -> types.ModuleType:
    rep = types.ModuleType("omni.replicator.core")
    ns = types.SimpleNamespace

    class Writer:
        """Stand-in base: the adapter's writer only overrides write() and on_final_frame()."""

        def attach(self, render_products: list) -> None:
            rec.record("writer.attach", type(self).__name__, render_products)

        def detach(self) -> None:
            rec.record("writer.detach", type(self).__name__)

    writers: dict[str, type] = {}

    class WriterRegistry:
        @staticmethod
        def register(cls: type) -> None:
            rec.record("rep.WriterRegistry.register", cls)
            writers[cls.__name__] = cls
            Handle(rec, "writer_registration", name=cls.__name__)

        @staticmethod
        def unregister_writer(name: str) -> None:
            rec.record("rep.WriterRegistry.unregister_writer", name)
            del writers[name]
            next(h for h in rec.live("writer_registration") if h.info["name"] == name).release()

        @staticmethod
        def get(name: str) -> Any:
            rec.record("rep.WriterRegistry.get", name)
            cls = writers[name]

            class Pending:
                def initialize(self, **kwargs: Any) -> None:
                    self.writer = cls(**kwargs)

                def attach(self, rps: list) -> None:
                    self.writer.attach(rps)

                def detach(self) -> None:
                    self.writer.detach()

            return Pending()

    def get_annotator(name: str, **kwargs: Any) -> _Annotator:
        rec.record("rep.AnnotatorRegistry.get_annotator", name, **kwargs)
        return _Annotator(rec, name, kwargs)

    def unregister_annotator(name: str) -> None:
        rec.record("rep.AnnotatorRegistry.unregister_annotator", name)
        next(h for h in rec.live("annotator_registration") if h.info["name"] == name).release()

    def register_annotator(name: str, annotator: Any) -> None:
        rec.record("rep.annotators.register", name=name, annotator=annotator)
        Handle(rec, "annotator_registration", name=name)

    class Augmentation:
        @staticmethod
        def from_function(fn: Callable, **kwargs: Any) -> Any:
            rec.record("rep.annotators.Augmentation.from_function", fn, **kwargs)
            return ns(function=fn, kwargs=kwargs)

    randomizers: dict[str, Callable] = {}

    def register_randomizer(fn: Callable) -> None:
        rec.record("rep.randomizer.register", fn)
        randomizers[fn.__name__] = fn

    class Randomizer:
        register = staticmethod(register_randomizer)

        def __getattr__(self, name: str) -> Callable:
            return _fn(rec, f"rep.randomizer.{name}", lambda *a, **k: randomizers[name](*a, **k))

    rep.Writer = Writer
    rep.WriterRegistry = WriterRegistry
    rep.AnnotatorRegistry = ns(get_annotator=get_annotator, unregister_annotator=unregister_annotator)
    rep.annotators = ns(
        Augmentation=Augmentation,
        register_augmentation=_fn(rec, "rep.annotators.register_augmentation"),
        get=_fn(rec, "rep.annotators.get", lambda name, **kw: _Annotator(rec, name, kw)),
        augment_compose=_fn(rec, "rep.annotators.augment_compose", "composed"),
        register=register_annotator,
    )
    rep.randomizer = Randomizer()
    rep.trigger = ns(
        on_frame=lambda **kw: _scope(rec, "rep.trigger.on_frame", **kw),
        on_custom_event=lambda **kw: _scope(rec, "rep.trigger.on_custom_event", **kw),
    )
    rep.get = ns(prims=_fn(rec, "rep.get.prims", lambda **kw: _Prims()))
    rep.modify = ns(variant=_fn(rec, "rep.modify.variant"), timeline=_fn(rec, "rep.modify.timeline"))
    rep.distribution = ns(
        choice=_fn(rec, "rep.distribution.choice", lambda c, **kw: ("choice", tuple(c))),
        sequence=_fn(rec, "rep.distribution.sequence", lambda s, **kw: ("sequence", tuple(s))),
    )
    rep.utils = ns(send_og_event=_fn(rec, "rep.utils.send_og_event"))
    rep.create = ns(
        render_product=lambda camera, resolution, name=None: _RenderProduct(rec, camera, resolution, name)
    )
    rep.set_global_seed = _fn(rec, "rep.set_global_seed")
    rep.settings = ns(carb_settings=_fn(rec, "rep.settings.carb_settings"))
    rep.orchestrator = ns(
        run_until_complete=_fn(rec, "rep.orchestrator.run_until_complete"),
        wait_until_complete=_fn(rec, "rep.orchestrator.wait_until_complete"),
        run=_fn(rec, "rep.orchestrator.run"),
    )
    rep.new_layer = lambda *a, **kw: _scope(rec, "rep.new_layer", *a, **kw)
    return rep


# ---- omni.ui -------------------------------------------------------------------------------


class _Model:
    def __init__(self, rec: Recorder, widget: str) -> None:
        self.rec, self.widget, self.value, self._callbacks = rec, widget, None, {}

    def set_value(self, value: Any) -> None:
        changed = value != self.value
        self.value = value
        if changed:
            for fn in list(self._callbacks.values()):
                fn(self)

    def add_value_changed_fn(self, fn: Callable) -> int:
        handle = Handle(self.rec, "value_changed_fn", widget=self.widget)
        self._callbacks[id(handle)] = fn
        return id(handle)

    def remove_value_changed_fn(self, callback_id: int) -> None:
        del self._callbacks[callback_id]
        next(h for h in self.rec.handles if id(h) == callback_id).release()

    def get_value_as_float(self) -> float:
        return float(self.value)

    def get_value_as_int(self) -> int:
        return int(self.value)

    def get_value_as_bool(self) -> bool:
        return bool(self.value)

    def get_value_as_string(self) -> str:
        return str(self.value)

    def get_item_value_model(self) -> _Model:
        return self


def _ui(rec: Recorder) -> types.ModuleType:
    ui = types.ModuleType("omni.ui")

    class Container:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            rec.record(f"ui.{type(self).__name__}", *args, **kwargs)

        def __enter__(self) -> Container:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

    class Window(Handle):
        def __init__(self, title: str, **kwargs: Any) -> None:
            super().__init__(rec, "window", title=title)
            rec.record("ui.Window", title, **kwargs)
            self.frame = Container()

        def destroy(self) -> None:
            rec.record("ui.Window.destroy", self.info["title"])
            self.release()

    class Widget:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            rec.record(f"ui.{type(self).__name__}", *args, **kwargs)
            self.model = _Model(rec, type(self).__name__)
            self.args, self.kwargs = args, kwargs

    class ByteImageProvider:
        def __init__(self) -> None:
            rec.record("ui.ByteImageProvider")

    class DynamicTextureProvider(ByteImageProvider):
        def __init__(self, name: str) -> None:
            rec.record("ui.DynamicTextureProvider", name)

        def set_bytes_data(self, data: list, size: list) -> None:
            rec.record("ui.ByteImageProvider.set_bytes_data", len(data), size)

        def set_bytes_data_from_gpu(self, ptr: int, size: list) -> None:
            rec.record("ui.ByteImageProvider.set_bytes_data_from_gpu", ptr, size)

    for name in ("ScrollingFrame", "VStack", "HStack", "CollapsableFrame"):
        setattr(ui, name, type(name, (Container,), {}))
    for name in (
        "Label",
        "Button",
        "CheckBox",
        "ComboBox",
        "StringField",
        "IntSlider",
        "IntDrag",
        "FloatSlider",
        "FloatDrag",
        "ImageWithProvider",
    ):
        setattr(ui, name, type(name, (Widget,), {}))
    ui.Window = Window
    ui.ByteImageProvider = ByteImageProvider
    ui.DynamicTextureProvider = DynamicTextureProvider
    return ui


# ---- omni.ext, omni.kit.app, omni.usd, carb --------------------------------------------------


def _kit_app(rec: Recorder) -> types.ModuleType:
    app_module = types.ModuleType("omni.kit.app")

    class Subscription(Handle):
        def __init__(self, fn: Callable, name: str) -> None:
            super().__init__(rec, "update_subscription", name=name)
            self.fn = fn

        def unsubscribe(self) -> None:
            rec.record("subscription.unsubscribe", self.info["name"])
            self.release()

    def create_subscription_to_pop(fn: Callable, name: str = "") -> Subscription:
        rec.record("stream.create_subscription_to_pop", fn, name=name)
        return Subscription(fn, name)

    stream = types.SimpleNamespace(create_subscription_to_pop=create_subscription_to_pop)
    app = types.SimpleNamespace(get_update_event_stream=lambda: stream, post_quit=_fn(rec, "app.post_quit"))
    app_module.get_app = lambda: app
    return app_module


def install(monkeypatch: Any, settings: dict[str, Any] | None = None) -> Recorder:
    """Put the stand-in modules in ``sys.modules`` for one test (monkeypatch undoes it)."""
    rec = Recorder()
    rec.settings.update(settings or {})
    omni = types.ModuleType("omni")
    omni.__path__ = []
    ext = types.ModuleType("omni.ext")
    ext.IExt = type("IExt", (), {})
    kit = types.ModuleType("omni.kit")
    kit.__path__ = []
    replicator = types.ModuleType("omni.replicator")
    replicator.__path__ = []
    usd = types.ModuleType("omni.usd")
    context = types.SimpleNamespace(open_stage=_fn(rec, "omni.usd.open_stage"))
    usd.get_context = lambda: context
    carb = types.ModuleType("carb")
    carb.__path__ = []
    carb_settings = types.ModuleType("carb.settings")
    carb_settings.get_settings = lambda: types.SimpleNamespace(get=rec.settings.get)
    carb.settings = carb_settings
    modules = {
        "omni": omni,
        "omni.ext": ext,
        "omni.kit": kit,
        "omni.kit.app": _kit_app(rec),
        "omni.ui": _ui(rec),
        "omni.replicator": replicator,
        "omni.replicator.core": _replicator(rec),
        "omni.usd": usd,
        "carb": carb,
        "carb.settings": carb_settings,
    }
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
        parent, _, child = name.rpartition(".")
        if parent:
            setattr(modules[parent], child, module)
    for name in [m for m in sys.modules if m.startswith("backrooms.kit")]:
        monkeypatch.delitem(sys.modules, name)  # re-import the adapter against this stand-in
    return rec
