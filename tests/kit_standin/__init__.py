"""A STRICT RECORDING STAND-IN for the omni.* / carb modules the Kit adapter calls. NOT Omniverse.

Kit and Replicator cannot be installed on the machines this project is built on. Every name here
exists only because ``signatures.API`` lists it, with the signature read from Replicator's, omni.ui's
or Kit's public source (or documentation, where no source was found; each entry says which). Calls
bind against that signature, so an unknown or misspelt keyword raises TypeError and a name that does
not exist raises AttributeError, as the real modules would; no ``__getattr__`` catch-alls.
``install(..., version=)`` configures it as one documented Replicator version (``signatures.VERSIONS``).

It records every call and tracks what was acquired and released (render products, annotator
attachments, windows, subscriptions, widget callbacks, registrations), and plays frames through
attached writers and augmented annotators. It checks the adapter's wiring against the APIs'
signatures, never Replicator's behaviour: a test that passes here says nothing about RTX, OmniGraph or
omni.ui drawing.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import sys
import types
import unittest
from collections.abc import Callable, Coroutine
from typing import Any

import numpy as np
import warp as wp

from kit_standin.signatures import LEGACY_PAYLOAD_VERSIONS, table


class Recorder:
    """Every call as ``(name, args, kwargs)``, plus the live/released state of handles."""

    def __init__(self, version: str) -> None:
        self.version = version
        self.table = table(version)
        self.calls: list[tuple[str, tuple, dict]] = []
        self.handles: list[Handle] = []
        self.settings: dict[str, Any] = {}
        self.annotator_data: dict[str, Any] = {}
        self.coroutines: list[Coroutine] = []
        self.writers: list[Any] = []  # attached writer instances, fed by the orchestrator

    def check(self, name: str, args: tuple, kwargs: dict, *, method: bool = False) -> dict[str, Any]:
        """Bind a call to the recorded signature (TypeError as Python raises it), record it, and
        return its arguments with defaults applied."""
        api = self.table.get(name)
        if api is None:
            raise AttributeError(f"{name} does not exist in Replicator version {self.version!r}")
        signature = api.signature
        bound = signature.bind(*args, **kwargs)
        if api.keywords is not None:
            for param in signature.parameters.values():
                if param.kind is inspect.Parameter.VAR_KEYWORD:
                    unknown = sorted(set(bound.arguments.get(param.name, {})) - api.keywords)
                    if unknown:
                        raise TypeError(f"{name}() got an unexpected keyword argument {unknown[0]!r}")
        self.calls.append((name, args[1:] if method else args, kwargs))
        bound.apply_defaults()
        return dict(bound.arguments)

    def called(self, name: str) -> list[tuple[tuple, dict]]:
        return [(args, kwargs) for call, args, kwargs in self.calls if call == name]

    def live(self, kind: str | None = None) -> list[Handle]:
        return [h for h in self.handles if not h.released and kind in (None, h.kind)]

    def made(self, kind: str) -> list[Handle]:
        return [h for h in self.handles if h.kind == kind]


class Handle:
    """Something acquired that must be given back."""

    def __init__(self, recorder: Recorder, kind: str, **info: Any) -> None:
        self.recorder, self.kind, self.info, self.released = recorder, kind, info, False
        recorder.handles.append(self)

    def release(self) -> None:
        assert not self.released, f"{self.kind} {self.info} released twice"
        self.released = True


def strict(name: str, method: bool = True) -> Callable:
    """Decorate a stand-in method (or constructor, ``method=False``) with the recorded signature check."""

    def wrap(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def call(self: Any, *args: Any, **kwargs: Any) -> Any:
            given = (self, *args) if method else args
            self._rec.check(name, given, kwargs, method=method)
            return fn(self, *args, **kwargs)

        return call

    return wrap


def function(rec: Recorder, name: str, impl: Callable[[dict], Any] | None = None) -> Callable:
    """A module-level function with the recorded signature; ``impl`` gets the bound arguments."""

    def call(*args: Any, **kwargs: Any) -> Any:
        arguments = rec.check(name, args, kwargs)
        return impl(arguments) if impl else None

    call.__name__ = name.rsplit(".", 1)[-1]
    return call


class Scope:
    """A ReplicatorItem used as ``with`` block (triggers, prim groups); ``node`` as the real item has."""

    def __init__(self, rec: Recorder, name: str) -> None:
        self._rec, self.name, self.node = rec, name, f"{name}-node"

    def __enter__(self) -> Scope:
        self._rec.calls.append((f"{self.name}:enter", (), {}))
        return self

    def __exit__(self, *exc: object) -> None:
        self._rec.calls.append((f"{self.name}:exit", (), {}))


# ---- omni.replicator.core -------------------------------------------------------------------


class OrchestratorError(Exception):
    pass


class AugmentationError(Exception):
    pass


def _replicator(rec: Recorder) -> dict[str, types.ModuleType]:
    class RenderProduct(Handle):
        def __init__(self, camera: Any, resolution: tuple, name: str | None) -> None:
            super().__init__(rec, "render_product", camera=camera, resolution=tuple(resolution), name=name)
            self._rec = rec
            self.path = f"/Render/{name or 'RenderProduct'}"

        @strict("rep.RenderProduct.destroy")
        def destroy(self) -> None:
            self.release()

    class Augmentation:
        """Checks the function the way Replicator's from_function and _validate_kwargs do."""

        def __init__(self, fn: Callable, kwargs: dict) -> None:
            is_kernel = isinstance(fn, wp.Kernel)
            params = inspect.signature(fn.func if is_kernel else fn).parameters
            if "data_in" not in params:
                raise AugmentationError("an augmentation takes `data_in`")
            if ("data_out" in params) != is_kernel:
                raise AugmentationError("`data_out` is for Warp kernels only, and required there")
            unknown = sorted(set(kwargs) - set(params))
            if unknown:
                raise AugmentationError(f"{unknown} are not parameters of {fn.__name__}")
            missing = [
                n
                for n, p in params.items()
                if n not in ("data_in", "data_out", "seed") and p.default is p.empty and n not in kwargs
            ]
            if missing:
                raise AugmentationError(f"Augmentation is missing required arguments: {missing}")
            self.fn, self.kwargs = fn, kwargs

        def __call__(self, data_in: Any) -> Any:
            return self.fn(data_in=data_in, **self.kwargs)

    class Annotator:
        def __init__(self, name: str, device: str = "cpu", steps: tuple = ()) -> None:
            self._rec, self.name, self.device, self.steps = rec, name, device or "cpu", steps
            self.attachment: Handle | None = None

        @strict("rep.Annotator.attach")
        def attach(self, render_products: Any) -> Annotator:
            self.attachment = Handle(rec, "annotator_attachment", name=self.name)
            return self

        @strict("rep.Annotator.detach")
        def detach(self, render_products: Any = None) -> None:
            self.attachment.release()

        @strict("rep.Annotator.get_data")
        def get_data(self, *args: Any, **kwargs: Any) -> Any:
            if self.attachment is None or self.attachment.released:
                raise AssertionError(f"annotator {self.name} is not attached (Replicator raises here)")
            return self.data()

        def data(self) -> Any:
            source = registered.get(self.name, self)
            data = rec.annotator_data.get(source.name, np.zeros((0,), np.uint8))
            for augmentation in source.steps:
                data = augmentation(data)
            return data

    registered: dict[str, Annotator] = {}
    augmentations: dict[str, Augmentation] = {}

    class AnnotatorRegistry:
        @staticmethod
        def get_annotator(*args: Any, **kwargs: Any) -> Annotator:
            a = rec.check("rep.AnnotatorRegistry.get_annotator", args, kwargs)
            return Annotator(a["name"], a.get("device"))

        @staticmethod
        def unregister_annotator(*args: Any, **kwargs: Any) -> None:
            a = rec.check("rep.AnnotatorRegistry.unregister_annotator", args, kwargs)
            del registered[a["name"]]
            next(h for h in rec.live("annotator_registration") if h.info["name"] == a["name"]).release()

    def from_function(a: dict) -> Augmentation:
        return Augmentation(a["augmentation"], a["kwargs"])

    def register_augmentation(a: dict) -> None:
        augmentations[a["name"]] = a["augmentation"]

    def augment(a: dict) -> Annotator:
        source = a["source_annotator"]
        return Annotator(source.name, source.device, (*source.steps, a["augmentation"]))

    def augment_compose(a: dict) -> Annotator:
        source = a["source_annotator"]
        return Annotator(source.name, source.device, (*source.steps, *a["augmentations"]))

    def register_annotator(a: dict) -> None:
        registered[a["name"]] = a["annotator"]
        Handle(rec, "annotator_registration", name=a["name"])

    def get(a: dict) -> Annotator:
        return Annotator(a["name"], a.get("device"))

    class Writer:
        """Base class: payloads reach ``write`` in the layout ``data_structure`` asks for, except in
        versions without ``data_structure`` (legacy layout)."""

        annotators: tuple = ()
        data_structure = "legacy"
        _rec = rec

        @strict("rep.Writer.initialize")
        def initialize(self, **kwargs: Any) -> None:
            self.__init__(**kwargs)

        @strict("rep.Writer.attach")
        def attach(self, render_products: list, trigger: Any = "omni.replicator.core.OgnOnFrame") -> None:
            self._render_products = list(render_products)
            rec.writers.append(self)

        @strict("rep.Writer.detach")
        def detach(self) -> None:
            rec.writers.remove(self)

        @strict("rep.Writer.on_final_frame")
        def on_final_frame(self) -> None:
            pass

        def standin_payload(self) -> dict:
            """One frame: each annotator's data from ``rec.annotator_data``."""
            names = [a.name if isinstance(a, Annotator) else a for a in self.annotators]
            per_rp = {
                rp.path: {n: {"data": rec.annotator_data[n]} for n in names if n in rec.annotator_data}
                for rp in self._render_products
            }
            if self.data_structure == "renderProduct" and rec.version not in LEGACY_PAYLOAD_VERSIONS:
                return {"renderProducts": per_rp, "reference_time": (0, 1)}
            assert len(per_rp) == 1, "the legacy layout names annotators per render product; one here"
            (annotators,) = per_rp.values()
            return {**{n: v["data"] for n, v in annotators.items()}, "reference_time": (0, 1)}

    writers: dict[str, type] = {}

    class WriterRegistry:
        @staticmethod
        def register(*args: Any, **kwargs: Any) -> None:
            a = rec.check("rep.WriterRegistry.register", args, kwargs)
            assert issubclass(a["writer"], Writer), "Replicator raises InvalidWriterError"
            writers[a["writer"].__name__] = a["writer"]
            Handle(rec, "writer_registration", name=a["writer"].__name__)

        @staticmethod
        def unregister(*args: Any, **kwargs: Any) -> None:
            a = rec.check("rep.WriterRegistry.unregister", args, kwargs)
            del writers[a["writer_name"]]
            name = a["writer_name"]
            next(h for h in rec.live("writer_registration") if h.info["name"] == name).release()

        @staticmethod
        def get(*args: Any, **kwargs: Any) -> Writer:
            a = rec.check("rep.WriterRegistry.get", args, kwargs)
            cls = writers[a["writer_name"]]
            return cls.__new__(cls)  # as Replicator does; initialize() then runs __init__

        @staticmethod
        def get_writers(*args: Any, **kwargs: Any) -> dict:
            rec.check("rep.WriterRegistry.get_writers", args, kwargs)
            return dict(writers)

    def on_frame(a: dict) -> Scope:
        return Scope(rec, "rep.trigger.on_frame")

    def render_product(a: dict) -> RenderProduct:
        return RenderProduct(a["camera"], a["resolution"], a["name"])

    def not_standalone(name: str) -> Callable[[dict], None]:
        def refuse(a: dict) -> None:
            raise OrchestratorError(
                f"Synchronous call to `{name}` can only be performed in a standalone workflow and may not "
                "be made from within Kit."
            )

        return refuse

    async def play(a: dict) -> None:
        """``run_until_complete_async``: each attached writer gets ``num_frames`` payloads, then
        ``on_final_frame``."""
        for _ in range(a["num_frames"] or 1):
            for writer in list(rec.writers):
                writer.write(writer.standin_payload())
        for writer in list(rec.writers):
            writer.on_final_frame()

    randomizer = types.ModuleType("omni.replicator.core.randomizer")

    def register_randomizer(a: dict) -> None:
        fn = a["fn"]
        signature = inspect.signature(fn)

        def registered_randomizer(*args: Any, **kwargs: Any) -> Any:
            signature.bind(*args, **kwargs)
            rec.calls.append((f"rep.randomizer.{fn.__name__}", args, kwargs))
            return fn(*args, **kwargs)

        setattr(randomizer, fn.__name__, registered_randomizer)  # as Replicator's register does

    impls: dict[str, Callable[[dict], Any] | None] = {
        "rep.annotators.Augmentation.from_function": from_function,
        "rep.annotators.register_augmentation": register_augmentation,
        "rep.annotators.get": get,
        "rep.annotators.augment": augment,
        "rep.annotators.augment_compose": augment_compose,
        "rep.annotators.register": register_annotator,
        "rep.trigger.on_frame": on_frame,
        "rep.trigger.on_custom_event": lambda a: Scope(rec, "rep.trigger.on_custom_event"),
        "rep.utils.send_og_event": None,
        "rep.orchestrator.run": None,
        "rep.orchestrator.run_until_complete": not_standalone("run_until_complete"),
        "rep.orchestrator.run_until_complete_async": play,
        "rep.orchestrator.wait_until_complete": not_standalone("wait_until_complete"),
        "rep.settings.carb_settings": None,
        "rep.set_global_seed": None,
        "rep.new_layer": lambda a: Scope(rec, "rep.new_layer"),
        "rep.randomizer.register": register_randomizer,
        "rep.get.prims": lambda a: Scope(rec, "rep.get.prims"),
        "rep.distribution.choice": lambda a: ("choice", tuple(a["choices"])),
        "rep.distribution.sequence": lambda a: ("sequence", tuple(a["items"])),
        "rep.modify.variant": None,
        "rep.modify.timeline": None,
        "rep.create.render_product": render_product,
        "rep.create.camera": lambda a: Scope(rec, "rep.create.camera"),
        "rep.create.cube": lambda a: Scope(rec, "rep.create.cube"),
        "rep.create.light": lambda a: Scope(rec, "rep.create.light"),
    }
    core = types.ModuleType("omni.replicator.core")
    modules = {"omni.replicator.core": core, "omni.replicator.core.randomizer": randomizer}
    core.Writer, core.WriterRegistry, core.AnnotatorRegistry = Writer, WriterRegistry, AnnotatorRegistry
    for name, impl in impls.items():
        if name not in rec.table:
            continue  # absent in this version: AttributeError on use, as in Replicator
        *path, attr = name.split(".")[1:]
        owner = core
        for i, part in enumerate(path):
            if part == "Augmentation":
                owner = owner.__dict__.setdefault(part, type("Augmentation", (), {}))
                continue
            full = "omni.replicator.core." + ".".join(path[: i + 1])
            modules.setdefault(full, types.ModuleType(full))
            if not hasattr(owner, part):
                setattr(owner, part, modules[full])
            owner = modules[full]
        wrapped = function(rec, name, impl)
        if inspect.iscoroutinefunction(impl):
            wrapped = _async(rec, name, impl)
        setattr(owner, attr, staticmethod(wrapped) if isinstance(owner, type) else wrapped)
    return modules


def _async(rec: Recorder, name: str, impl: Callable[[dict], Coroutine]) -> Callable:
    async def call(*args: Any, **kwargs: Any) -> Any:
        return await impl(rec.check(name, args, kwargs))

    return call


# ---- omni.ui -------------------------------------------------------------------------------


def _ui(rec: Recorder) -> types.ModuleType:
    ui = types.ModuleType("omni.ui")

    class ValueModel:
        _rec = rec

        def __init__(self, widget: str) -> None:
            self.widget, self.value, self._callbacks = widget, None, {}

        @strict("ui.AbstractValueModel.set_value")
        def set_value(self, value: Any) -> None:
            changed = value != self.value
            self.value = value
            if changed:
                for fn in list(self._callbacks.values()):
                    fn(self)

        @strict("ui.AbstractValueModel.add_value_changed_fn")
        def add_value_changed_fn(self, fn: Callable) -> int:
            handle = Handle(rec, "value_changed_fn", widget=self.widget)
            self._callbacks[id(handle)] = fn
            return id(handle)

        @strict("ui.AbstractValueModel.remove_value_changed_fn")
        def remove_value_changed_fn(self, callback_id: int) -> None:
            del self._callbacks[callback_id]
            next(h for h in rec.handles if id(h) == callback_id).release()

        @strict("ui.AbstractValueModel.get_value_as_float")
        def get_value_as_float(self) -> float:
            return float(self.value)

        @strict("ui.AbstractValueModel.get_value_as_int")
        def get_value_as_int(self) -> int:
            return int(self.value)

        @strict("ui.AbstractValueModel.get_value_as_bool")
        def get_value_as_bool(self) -> bool:
            return bool(self.value)

        @strict("ui.AbstractValueModel.get_value_as_string")
        def get_value_as_string(self) -> str:
            return str(self.value)

    class ItemModel:
        _rec = rec

        def __init__(self, widget: str) -> None:
            self._value = ValueModel(widget)

        @strict("ui.AbstractItemModel.get_item_value_model")
        def get_item_value_model(self, item: Any = None, column_id: int = 0) -> ValueModel:
            return self._value

    class Widget:
        _rec = rec

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            rec.check(f"ui.{type(self).__name__}", args, kwargs)
            self.args, self.kwargs = args, kwargs
            self.model = (ItemModel if isinstance(self, ui.ComboBox) else ValueModel)(type(self).__name__)

    class Container(Widget):
        def __enter__(self) -> Container:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

    class Frame(Container):
        def __init__(self) -> None:  # the window's own frame: Kit makes it, the adapter never does
            self.model = None

    class Window(Handle):
        _rec = rec

        @strict("ui.Window", method=False)
        def __init__(self, title: str, *args: Any, **kwargs: Any) -> None:
            super().__init__(rec, "window", title=title)
            self.frame = Frame()

        @strict("ui.Window.destroy")
        def destroy(self) -> None:
            self.release()

    class ByteImageProvider:
        _rec = rec

        @strict("ui.ByteImageProvider", method=False)
        def __init__(self) -> None:
            pass

        @strict("ui.ByteImageProvider.set_bytes_data")
        def set_bytes_data(self, data: list, sizes: list, *args: Any, **kwargs: Any) -> None:
            width, height = sizes
            assert len(data) == width * height * 4, "RGBA8 bytes for the given size"

        @strict("ui.ByteImageProvider.set_bytes_data_from_gpu")
        def set_bytes_data_from_gpu(self, gpu_bytes: int, sizes: list, *args: Any, **kwargs: Any) -> None:
            assert isinstance(gpu_bytes, int)

    class DynamicTextureProvider(ByteImageProvider):
        @strict("ui.DynamicTextureProvider", method=False)
        def __init__(self, name: str) -> None:
            pass

    for name in ("ScrollingFrame", "VStack", "HStack", "CollapsableFrame"):
        setattr(ui, name, type(name, (Container,), {}))
    for name in ("Label", "Button", "CheckBox", "ComboBox", "StringField", "IntSlider", "IntDrag"):
        setattr(ui, name, type(name, (Widget,), {}))
    for name in ("FloatSlider", "FloatDrag", "ImageWithProvider"):
        setattr(ui, name, type(name, (Widget,), {}))
    ui.Window, ui.ByteImageProvider = Window, ByteImageProvider
    ui.DynamicTextureProvider = DynamicTextureProvider
    return ui


# ---- omni.ext, omni.kit.app, omni.kit.async_engine, omni.kit.test, omni.usd, carb ------------


def _kit(rec: Recorder) -> dict[str, types.ModuleType]:
    class Subscription(Handle):
        _rec = rec

        def __init__(self, fn: Callable, name: str | None) -> None:
            super().__init__(rec, "update_subscription", name=name)
            self.fn = fn

        @strict("carb.events.ISubscription.unsubscribe")
        def unsubscribe(self) -> None:
            self.release()

    class EventStream:
        _rec = rec

        @strict("carb.events.IEventStream.create_subscription_to_pop")
        def create_subscription_to_pop(self, fn: Callable, order: int = 0, name: str | None = None) -> Any:
            return Subscription(fn, name)

    class App:
        _rec = rec
        stream = EventStream()

        @strict("omni.kit.app.IApp.get_update_event_stream")
        def get_update_event_stream(self, runloop_name: str = "main") -> EventStream:
            return self.stream

        @strict("omni.kit.app.IApp.post_quit")
        def post_quit(self, return_code: int = 0) -> None:
            pass

        @strict("omni.kit.app.IApp.next_update_async")
        async def next_update_async(self, *args: Any, **kwargs: Any) -> float:
            return 0.0

    class Settings:
        _rec = rec

        @strict("carb.settings.ISettings.get")
        def get(self, path: str) -> Any:
            return rec.settings.get(path)

    class UsdContext:
        _rec = rec

        @strict("omni.usd.UsdContext.open_stage")
        def open_stage(self, url: str, *args: Any, **kwargs: Any) -> bool:
            return True

        @strict("omni.usd.UsdContext.new_stage_async")
        async def new_stage_async(self, *args: Any, **kwargs: Any) -> tuple[bool, str]:
            return True, ""

    app, settings, context = App(), Settings(), UsdContext()

    def run_coroutine(a: dict) -> None:
        rec.coroutines.append(a["coroutine"])  # Kit schedules it on its loop; tests run it with run_pending

    modules = {name: types.ModuleType(name) for name in ("omni.ext", "omni.kit.app", "omni.kit.test")}
    modules["omni.kit.async_engine"] = types.ModuleType("omni.kit.async_engine")
    modules["omni.usd"] = types.ModuleType("omni.usd")
    modules["carb.settings"] = types.ModuleType("carb.settings")
    modules["omni.ext"].IExt = type("IExt", (), {})
    modules["omni.kit.test"].AsyncTestCase = unittest.IsolatedAsyncioTestCase
    modules["omni.kit.app"].get_app = function(rec, "omni.kit.app.get_app", lambda a: app)
    modules["omni.kit.async_engine"].run_coroutine = function(
        rec, "omni.kit.async_engine.run_coroutine", run_coroutine
    )
    modules["omni.usd"].get_context = function(rec, "omni.usd.get_context", lambda a: context)
    modules["carb.settings"].get_settings = function(rec, "carb.settings.get_settings", lambda a: settings)
    return modules


def run_pending(rec: Recorder) -> None:
    """Run the coroutines the adapter handed to ``omni.kit.async_engine.run_coroutine``."""
    while rec.coroutines:
        asyncio.run(rec.coroutines.pop(0))


def install(monkeypatch: Any, settings: dict[str, Any] | None = None, version: str = "current") -> Recorder:
    """Put the stand-in modules in ``sys.modules`` for one test (monkeypatch undoes it)."""
    rec = Recorder(version)
    rec.settings.update(settings or {})
    modules: dict[str, types.ModuleType] = {}
    for package in ("omni", "omni.kit", "omni.replicator", "carb"):
        modules[package] = types.ModuleType(package)
        modules[package].__path__ = []
    modules.update(_kit(rec))
    modules.update(_replicator(rec))
    modules["omni.ui"] = _ui(rec)
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
        parent, _, child = name.rpartition(".")
        if parent in modules and not hasattr(modules[parent], child):
            setattr(modules[parent], child, module)
    for name in [m for m in sys.modules if m.startswith("backrooms.kit")]:
        monkeypatch.delitem(sys.modules, name)  # re-import the adapter against this stand-in
    return rec
