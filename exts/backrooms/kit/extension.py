"""The Kit extension: wires the Kit-free package into Replicator, omni.ui and OSC, and back out again.

Everything acquired on startup is pushed on one ExitStack as it is acquired, so shutdown (or a
failed startup) releases exactly what exists, newest first: OSC socket, subscriptions, panel,
annotators and render product, registrations, the live session.
"""

from __future__ import annotations

import contextlib

import carb.settings
import omni.ext
import omni.kit.app
import warp as wp

from backrooms.graph.product import RGB
from backrooms.graph.recipe import load_recipe
from backrooms.kit import augment, hallway, live, writer
from backrooms.kit.chain import post_render_kinds
from backrooms.kit.osc import KitOsc
from backrooms.kit.preview import PreviewSource
from backrooms.kit.settings import KitSettings
from backrooms.params import REGISTRY, ParamStore


def reshuffle_keys() -> frozenset[str]:
    """World triggers (e.g. ``/backrooms/world/variation`` over OSC): a change re-rolls the hallway."""
    return frozenset(p.key for p in REGISTRY if p.node == "world" and p.kind == "trigger")


class BackroomsExtension(omni.ext.IExt):
    def on_startup(self, ext_id: str) -> None:
        self._stack = contextlib.ExitStack()
        self._reshuffle = False
        try:
            self._start()
        except BaseException:
            self._stack.close()
            raise

    def _start(self) -> None:
        stack = self._stack
        settings = KitSettings.read(carb.settings.get_settings().get)
        self._reshuffle_keys = reshuffle_keys()
        recipe = load_recipe(settings.recipe or None)
        self.store = store = ParamStore(values=recipe.params)
        device = "cuda" if wp.is_cuda_available() else "cpu"

        self.session = live.LiveSession(store, settings.seed, settings.fps)
        live.bind(self.session)
        stack.callback(live.unbind)

        hallway.register()
        augment.register(settings.seed, device)
        stack.callback(augment.unregister)
        writer.register()
        stack.callback(writer.unregister)

        self._kinds = post_render_kinds(recipe)
        self.panel = self.preview = None
        if settings.panel:
            from backrooms.kit.panel import BackroomsPanel  # omni.ui is optional (headless apps)

            self.preview = PreviewSource(
                settings.preview_camera, settings.preview_width, settings.preview_height, device
            )
            stack.callback(self.preview.release)
            self.panel = BackroomsPanel(store, REGISTRY)
            stack.callback(self.panel.destroy)

        updates = omni.kit.app.get_app().get_update_event_stream()
        subscription = updates.create_subscription_to_pop(self._on_update, name="backrooms.update")
        stack.callback(subscription.unsubscribe)
        stack.callback(store.subscribe(self._on_params))

        self.osc = KitOsc(store, settings.osc_host, settings.osc_port, settings.fps)
        stack.callback(self.osc.close)

    def _on_params(self, changes: dict) -> None:
        if self._reshuffle_keys & changes.keys():
            self._reshuffle = True  # listeners may run on any thread; the event goes out in _on_update

    def _on_update(self, _event: object) -> None:
        self.osc.step()
        if self._reshuffle:
            self._reshuffle = False
            hallway.reshuffle()
        if self.panel is None:
            return
        self.panel.refresh()
        aovs = self.preview.read()
        if aovs is None:
            return
        height, width = aovs[RGB].shape[:2]
        device = str(aovs[RGB].device) if isinstance(aovs[RGB], wp.array) else "cpu"
        chain = self.session.chain(self._kinds, width, height, device, self.session.seed)
        product = chain.render(self.session.next_frame("preview"), aovs)
        self.panel.show(product[RGB])

    def on_shutdown(self) -> None:
        self._stack.close()
