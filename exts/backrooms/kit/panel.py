"""The omni.ui panel: one control per registry parameter, and the corrupted frame, live."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import omni.ui as ui
import warp as wp

from backrooms.control.addresses import AddressTable
from backrooms.control.values import bang
from backrooms.errors import UserError
from backrooms.params.registry import Param, Registry
from backrooms.params.store import ParamStore

TITLE = "Backrooms"
TEXTURE = "backrooms_vhs"  # materials can show the live frame as dynamic://backrooms_vhs


class BackroomsPanel:
    """Controls write the store; store changes from elsewhere (OSC) show on ``refresh()``."""

    def __init__(self, store: ParamStore, registry: Registry) -> None:
        self._store = store
        self._addresses = AddressTable(registry)
        self._models: dict[str, tuple[Any, Callable[[Any], Any], int]] = {}
        self._pending: set[str] = set()
        self._lock = threading.Lock()
        self._shown: wp.array | None = None
        self.provider = ui.DynamicTextureProvider(TEXTURE)  # a ByteImageProvider that USD can also see
        self.window = ui.Window(TITLE, width=420, height=760)
        with self.window.frame, ui.ScrollingFrame(), ui.VStack(spacing=4):
            ui.ImageWithProvider(self.provider, height=240)
            for node in registry.nodes():
                with ui.CollapsableFrame(node, collapsed=True), ui.VStack(spacing=2):
                    for param in registry.for_node(node):
                        self._control(param)
        self._unsubscribe = store.subscribe(self._changed_elsewhere)

    def _control(self, param: Param) -> None:
        with ui.HStack(height=22):
            paths = ", ".join(a.path for a in self._addresses.for_param(param))
            ui.Label(param.name, width=150, tooltip=f"{param.description} ({paths})")
            if param.kind == "trigger":
                ui.Button("fire", clicked_fn=lambda p=param: self._fire(p))
                return
            model, read = _widget(param)
        model.set_value(_shown_value(param, self._store.get(param.key)))
        callback = model.add_value_changed_fn(lambda m, p=param: self._edited(p, m))
        self._models[param.key] = (model, read, callback)

    def _edited(self, param: Param, model: Any) -> None:
        _, read, _ = self._models[param.key]
        try:
            self._store.set(param.key, read(model))
        except UserError:
            model.set_value(_shown_value(param, self._store.get(param.key)))

    def _fire(self, param: Param) -> None:
        self._store.set(param.key, bang(param, self._store.get(param.key)))

    def _changed_elsewhere(self, changes: dict[str, Any]) -> None:
        with self._lock:  # called on the OSC thread; omni.ui is touched only in refresh()
            self._pending.update(changes)

    def refresh(self) -> None:
        """Show values changed by OSC or automation (call on Kit's main thread)."""
        with self._lock:
            keys, self._pending = self._pending, set()
        for key in keys & self._models.keys():
            model, _, _ = self._models[key]
            model.set_value(_shown_value(self._store.registry[key], self._store.get(key)))

    def show(self, rgba: wp.array) -> None:
        """Display an (H, W, 4) uint8 frame; from GPU memory when it is on the GPU."""
        height, width = rgba.shape[:2]
        if rgba.device.is_cuda:
            self.provider.set_bytes_data_from_gpu(rgba.ptr, [width, height])
        else:
            self.provider.set_bytes_data(rgba.numpy().ravel().tolist(), [width, height])
        self._shown = rgba  # the provider may read the pointer later: keep the array alive

    def destroy(self) -> None:
        self._unsubscribe()
        for model, _, callback in self._models.values():
            model.remove_value_changed_fn(callback)
        self._models = {}
        self.window.destroy()
        self._shown = None


def _widget(param: Param) -> tuple[Any, Callable[[Any], Any]]:
    """The omni.ui control for one parameter and how to read its model back."""
    if param.type is bool:
        return ui.CheckBox().model, lambda m: m.get_value_as_bool()
    if param.choices:
        combo = ui.ComboBox(0, *param.choices)
        return combo.model.get_item_value_model(), lambda m: param.choices[m.get_value_as_int()]
    if param.type is str:
        return ui.StringField().model, lambda m: m.get_value_as_string()
    bounded = param.min is not None and param.max is not None
    if param.type is int:
        widget = ui.IntSlider(min=param.min, max=param.max) if bounded else ui.IntDrag()
        return widget.model, lambda m: m.get_value_as_int()
    widget = ui.FloatSlider(min=param.min, max=param.max) if bounded else ui.FloatDrag()
    return widget.model, lambda m: m.get_value_as_float()


def _shown_value(param: Param, value: Any) -> Any:
    """Choice parameters are shown by index."""
    return param.choices.index(value) if param.choices else value
