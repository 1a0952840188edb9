"""Every omni.* / carb name the Kit adapter touches, with the signature of the real API and its source.

NOT Omniverse: a table read off public sources, so the stand-in (``kit_standin``) and the static check
(``tests/test_kit_signatures.py``) hold the adapter to the real parameter names, kinds and defaults.

Each entry names where it was read. Grades: ``source`` = the Python source or generated stub, read
verbatim; ``docs`` = an NVIDIA documentation page (no source found); ``notes`` = the project's reference
notes, public example scripts or third-party summaries of the API pages (unverified beyond the keywords
the adapter uses).
Replicator's Python sources were read through the code index of public repositories, which shows the
files but not the repository or commit they came from; the index's file id is given instead.

Versions: ``VERSIONS`` lists, per documented Replicator difference, what changes relative to the
current source (``"current"``): a changed signature, or ``None`` for a name that does not exist there.
"""

from __future__ import annotations

import ast
import inspect
from dataclasses import dataclass

SOURCES = {
    "rep-annotators": (
        "source",
        "omni.replicator.core scripts/annotators.py (Apache-2.0, 2025 NVIDIA SPDX header), "
        "code index file id 69150225540",
    ),
    "rep-writers": (
        "source",
        "omni.replicator.core scripts/writers.py (Apache-2.0, 2025 header), code index file id 69134907362",
    ),
    "rep-writers-2022": (
        "source",
        "omni.replicator.core scripts/writers.py (2022 NVIDIA header, no `data_structure`), "
        "code index file id 12446188086",
    ),
    "rep-trigger": (
        "source",
        "omni.replicator.core scripts/trigger.py (Apache-2.0, 2025 header), code index file id 68908132122",
    ),
    "rep-orchestrator": (
        "source",
        "omni.replicator.core scripts/orchestrator.py (Apache-2.0, 2025 header), "
        "code index file id 69279878621",
    ),
    "rep-settings": (
        "source",
        "omni.replicator.core scripts/settings.py (Apache-2.0, 2025 header), code index file id 68933233156",
    ),
    "rep-utils": (
        "source",
        "omni.replicator.core scripts/utils/utils.py (`send_og_event(event_name: str)`), "
        "code index file id 69184213760",
    ),
    "rdoc-1.0": (
        "docs",
        "https://docs.omniverse.nvidia.com/py/replicator/1.0.0/source/extensions/omni.replicator.core/"
        "docs/index.html (also 1.1.0): `new_layer(name: str = None)`, `set_global_seed(seed: int)`",
    ),
    "rdoc-1.10.10": (
        "notes",
        "Replicator 1.10.10 API reference as summarised in leekunhan/Omniverse_SDG "
        "Replicator/omni.replicator.core/omni.replicator.core.md @ 592e465: get.prims, create.cube, "
        "create.light, randomizer.register(fn, override=True), distribution.choice/sequence",
    ),
    "ogn-onframe": (
        "docs",
        "https://docs.omniverse.nvidia.com/extensions/latest/ext_omnigraph/node-library/nodes/"
        "omni-replicator-core/ognonframe-1.html: inputs interval=1, numFrames=0, rt_subframes=1 "
        "(no maxExecs)",
    ),
    "notes-unverified": (
        "notes",
        "first parameter from the example scripts in /work/shared/reference/kit-replicator.md; the "
        "remaining parameters as remembered from the Replicator 1.x API page, not re-read (unverified)",
    ),
    "rdoc-annotators": (
        "docs",
        "https://docs.omniverse.nvidia.com/prod_extensions/prod_extensions/ext_replicator/"
        "annotators_details.html: `AnnotatorRegistry.get_annotator(name, init_params=...)`, no device or "
        "copy keywords; the release that added `device=`/`do_array_copy=` is not documented",
    ),
    "notes": (
        "notes",
        "/work/shared/reference/kit-replicator.md: NVIDIA-Omniverse/synthetic-data-examples @ 2743b2c and "
        "isaac-sim/IsaacSim @ 045ca8b5 scripts (modify.variant(name, value), modify.timeline(value, "
        "modify_type), create.render_product(camera, resolution, name=), create.camera(position=, look_at=))",
    ),
    "typings": (
        "source",
        "generated stubs of Isaac Sim 5.0's Kit, work-r-labs/isaacsim_typings_5 @ "
        "dc6fd8d86f33d18cc3d4c4a864ab17f2ac459a4c: typings/carb/settings/{__init__,_settings}.pyi, "
        "typings/carb/events/_events.pyi, typings/omni/kit/app/{_app,_impl/app_iface}.pyi, "
        "typings/omni/usd/_usd.pyi, typings/omni/kit/async_engine/async_engine.pyi",
    ),
    "omni-ui": (
        "source",
        "omni.ui generated stub _ui.pyi (pybind signatures and each constructor's documented keyword "
        "arguments), code index file id 12706463696",
    ),
    "omni-ui-docs": (
        "notes",
        "omni.ui (https://docs.omniverse.nvidia.com/kit/docs/omni.ui/latest/) as used by public extensions "
        "and the reference notes; constructor keywords are the class's properties as recalled, the stub "
        "section for this class was not read (unverified)",
    ),
    "kit-app-template": (
        "notes",
        "NVIDIA-Omniverse/kit-app-template @ e9c59af templates (omni.ext.IExt subclass with "
        "on_startup(ext_id) / on_shutdown(); omni.kit.test.AsyncTestCase)",
    ),
}

# Keywords every omni.ui widget constructor documents (the stub lists them under each class; read for
# Button, CollapsableFrame, ColorWidget and FreeBezierCurve, identical in each).
WIDGET_KEYWORDS = frozenset(
    {
        *("width", "height", "name", "style_type_name_override", "identifier", "visible", "visibleMin"),
        *("visibleMax", "tooltip", "tooltip_fn", "tooltip_offset_x", "tooltip_offset_y", "enabled"),
        *("selected", "checked", "dragging", "opaque_for_mouse_events", "skip_draw_when_clipped"),
        *("mouse_moved_fn", "mouse_pressed_fn", "mouse_released_fn", "mouse_double_clicked_fn"),
        *("mouse_wheel_fn", "mouse_hovered_fn", "drag_fn", "accept_drop_fn", "drop_fn", "style"),
        "computed_content_size_changed_fn",
    }
)
STACK_KEYWORDS = frozenset({"spacing", "content_clipping", "direction", "send_mouse_events_to_back"})
FRAME_KEYWORDS = frozenset(
    {"horizontal_clipping", "vertical_clipping", "separate_window", "raster_policy", "build_fn"}
)
SLIDER_KEYWORDS = frozenset({"min", "max", "step", "format", "precision", "model"})


@dataclass(frozen=True)
class Api:
    """One name: its parameter list as written in the source, where it was read, and for ``**kwargs``
    constructors (omni.ui) the keyword arguments the source documents."""

    params: str
    source: str
    keywords: frozenset[str] | None = None

    @property
    def signature(self) -> inspect.Signature:
        return parse_signature(self.params)


def parse_signature(params: str) -> inspect.Signature:
    """``"(a, b=1, *, c)"`` -> the inspect.Signature of ``def f(a, b=1, *, c)``."""
    tree = ast.parse(f"def f{params}: pass")
    namespace: dict = {}
    exec(compile(tree, "<signature>", "exec"), namespace)
    return inspect.signature(namespace["f"])


# Names as the adapter writes them: ``rep`` = omni.replicator.core, ``ui`` = omni.ui. Methods of
# returned objects are listed under their class (``rep.Annotator.attach``, ``ui.Window.destroy``).
API: dict[str, Api] = {
    # ---- omni.replicator.core ----
    "rep.annotators.Augmentation.from_function": Api(
        "(augmentation, data_out_shape=None, documentation=None, **kwargs)", "rep-annotators"
    ),
    "rep.annotators.register_augmentation": Api("(name, augmentation)", "rep-annotators"),
    "rep.annotators.get": Api(
        "(name, init_params=None, render_product_idxs=None, device=None, do_array_copy=True)",
        "rep-annotators",
    ),
    "rep.annotators.augment": Api(
        "(source_annotator, augmentation, data_out_shape=None, name=None, device=None, **kwargs)",
        "rep-annotators",
    ),
    "rep.annotators.augment_compose": Api("(source_annotator, augmentations, name=None)", "rep-annotators"),
    "rep.annotators.register": Api("(name, annotator)", "rep-annotators"),
    "rep.AnnotatorRegistry.get_annotator": Api(
        "(name, init_params=None, render_product_idxs=None, device=None, do_array_copy=True)",
        "rep-annotators",
    ),
    "rep.AnnotatorRegistry.unregister_annotator": Api("(name)", "rep-annotators"),
    "rep.Annotator.attach": Api("(self, render_products)", "rep-annotators"),
    "rep.Annotator.detach": Api("(self, render_products=None)", "rep-annotators"),
    "rep.Annotator.get_data": Api(
        "(self, device=None, do_array_copy=False, use_legacy_structure=True)", "rep-annotators"
    ),
    "rep.Writer.initialize": Api("(self, **kwargs)", "rep-writers-2022"),
    "rep.Writer.attach": Api(
        "(self, render_products, trigger='omni.replicator.core.OgnOnFrame')", "rep-writers-2022"
    ),
    "rep.Writer.detach": Api("(self)", "rep-writers-2022"),
    "rep.Writer.write": Api("(self, data)", "rep-writers"),
    "rep.Writer.on_final_frame": Api("(self)", "rep-writers-2022"),
    "rep.WriterRegistry.register": Api("(writer, category=None)", "rep-writers"),
    "rep.WriterRegistry.unregister": Api("(writer_name)", "rep-writers"),
    "rep.WriterRegistry.get": Api(
        "(writer_name, init_params=None, render_products=None, trigger='omni.replicator.core.OgnOnFrame')",
        "rep-writers",
    ),
    "rep.WriterRegistry.get_writers": Api("(category=None)", "rep-writers"),
    "rep.trigger.on_frame": Api(
        "(interval=1, num_frames=0, name='on_frame', rt_subframes=1, max_execs=0)", "rep-trigger"
    ),
    "rep.trigger.on_custom_event": Api("(event_name)", "rep-trigger"),
    "rep.utils.send_og_event": Api("(event_name)", "rep-utils"),
    "rep.orchestrator.run": Api("(num_frames=None, start_timeline=False)", "rep-orchestrator"),
    "rep.orchestrator.run_until_complete": Api("(num_frames=None, start_timeline=False)", "rep-orchestrator"),
    "rep.orchestrator.run_until_complete_async": Api(
        "(num_frames=None, start_timeline=False)", "rep-orchestrator"
    ),
    "rep.orchestrator.wait_until_complete": Api("()", "rep-orchestrator"),
    "rep.settings.carb_settings": Api("(setting, value)", "rep-settings"),
    "rep.set_global_seed": Api("(seed)", "rdoc-1.0"),
    "rep.new_layer": Api("(name=None)", "rdoc-1.0"),
    "rep.randomizer.register": Api("(fn, override=True)", "rdoc-1.10.10"),
    "rep.get.prims": Api(
        "(path_pattern=None, path_pattern_exclusion=None, prim_types=None, prim_types_exclusion=None, "
        "semantics=None, semantics_exclusion=None, cache_result=True)",
        "rdoc-1.10.10",
    ),
    "rep.distribution.choice": Api(
        "(choices, weights=None, num_samples=1, seed=None, with_replacements=True, name=None)",
        "notes-unverified",
    ),
    "rep.distribution.sequence": Api("(items, ordered=True, seed=None, name=None)", "notes-unverified"),
    "rep.modify.variant": Api("(name, value, input_prims=None)", "notes"),
    "rep.modify.timeline": Api("(value, modify_type)", "notes"),
    "rep.create.render_product": Api("(camera, resolution, force_new=False, name=None)", "notes"),
    "rep.RenderProduct.destroy": Api("(self)", "notes"),
    # Only keywords are documented for these three (no positional order): keyword-only here.
    "rep.create.camera": Api("(*, position=None, look_at=None)", "notes"),
    "rep.create.cube": Api(
        "(*, position=None, scale=None, pivot=None, rotation=None, look_at=None, look_at_up_axis=None, "
        "semantics=None, material=None, visible=True, as_mesh=True, count=1)",
        "rdoc-1.10.10",
    ),
    "rep.create.light": Api(
        "(*, rotation=None, count=1, light_type=None, color=(1.0, 1.0, 1.0), intensity=1000.0, "
        "exposure=None, temperature=6500)",
        "rdoc-1.10.10",
    ),
    # ---- omni.ui ----
    "ui.Window": Api(
        "(title, dockPreference=None, **kwargs)",  # default DockPreference.DISABLED
        "omni-ui",
        frozenset({"flags", "visible", "title", "padding_x", "padding_y", "width", "height", "position_x"})
        | {"position_y", "auto_resize", "noTabBar", "raster_policy", "width_changed_fn", "height_changed_fn"}
        | {"visibility_changed_fn"},
    ),
    "ui.Window.destroy": Api("(self)", "omni-ui"),
    "ui.ScrollingFrame": Api("(**kwargs)", "omni-ui-docs", WIDGET_KEYWORDS | FRAME_KEYWORDS),
    "ui.VStack": Api("(**kwargs)", "omni-ui-docs", WIDGET_KEYWORDS | STACK_KEYWORDS),
    "ui.HStack": Api("(**kwargs)", "omni-ui-docs", WIDGET_KEYWORDS | STACK_KEYWORDS),
    "ui.CollapsableFrame": Api(
        "(title='', **kwargs)",
        "omni-ui",
        WIDGET_KEYWORDS
        | FRAME_KEYWORDS
        | {"collapsed", "title", "alignment", "build_header_fn", "collapsed_changed_fn"},
    ),
    "ui.Label": Api(
        "(text, **kwargs)",
        "omni-ui-docs",
        WIDGET_KEYWORDS | {"text", "alignment", "word_wrap", "elided_text"},
    ),
    "ui.Button": Api(
        "(text='', **kwargs)",
        "omni-ui",
        WIDGET_KEYWORDS | {"text", "image_url", "image_width", "image_height", "spacing", "clicked_fn"},
    ),
    "ui.CheckBox": Api("(model=None, **kwargs)", "omni-ui-docs", WIDGET_KEYWORDS),
    "ui.ComboBox": Api("(*args, **kwargs)", "omni-ui-docs", WIDGET_KEYWORDS | {"arrow_only"}),
    "ui.StringField": Api("(model=None, **kwargs)", "omni-ui-docs", WIDGET_KEYWORDS | {"password_mode"}),
    "ui.IntSlider": Api("(model=None, **kwargs)", "omni-ui-docs", WIDGET_KEYWORDS | SLIDER_KEYWORDS),
    "ui.IntDrag": Api("(model=None, **kwargs)", "omni-ui-docs", WIDGET_KEYWORDS | SLIDER_KEYWORDS),
    "ui.FloatSlider": Api("(model=None, **kwargs)", "omni-ui-docs", WIDGET_KEYWORDS | SLIDER_KEYWORDS),
    "ui.FloatDrag": Api("(model=None, **kwargs)", "omni-ui-docs", WIDGET_KEYWORDS | SLIDER_KEYWORDS),
    "ui.ImageWithProvider": Api(
        "(provider=None, **kwargs)",
        "omni-ui-docs",
        WIDGET_KEYWORDS | {"alignment", "fill_policy", "pixel_aligned"},
    ),
    "ui.ByteImageProvider": Api("()", "omni-ui"),
    "ui.DynamicTextureProvider": Api("(arg0)", "omni-ui"),
    "ui.ByteImageProvider.set_bytes_data": Api(
        "(self, bytes, sizes, format=None, stride=-1)", "omni-ui-docs"
    ),
    "ui.ByteImageProvider.set_bytes_data_from_gpu": Api(
        "(self, gpu_bytes, sizes, format=None, stride=-1)", "omni-ui"
    ),
    "ui.AbstractValueModel.set_value": Api("(self, value)", "omni-ui-docs"),
    "ui.AbstractValueModel.add_value_changed_fn": Api("(self, fn)", "omni-ui-docs"),
    "ui.AbstractValueModel.remove_value_changed_fn": Api("(self, id)", "omni-ui-docs"),
    "ui.AbstractValueModel.get_value_as_bool": Api("(self)", "omni-ui-docs"),
    "ui.AbstractValueModel.get_value_as_int": Api("(self)", "omni-ui-docs"),
    "ui.AbstractValueModel.get_value_as_float": Api("(self)", "omni-ui-docs"),
    "ui.AbstractValueModel.get_value_as_string": Api("(self)", "omni-ui-docs"),
    "ui.AbstractItemModel.get_item_value_model": Api("(self, item=None, column_id=0)", "omni-ui-docs"),
    # ---- Kit ----
    "omni.ext.IExt": Api("()", "kit-app-template"),
    "omni.kit.test.AsyncTestCase": Api("(methodName='runTest')", "kit-app-template"),
    "carb.settings.get_settings": Api("()", "typings"),
    "carb.settings.ISettings.get": Api("(self, path)", "typings"),
    "omni.kit.app.get_app": Api("()", "typings"),
    "omni.kit.app.IApp.get_update_event_stream": Api("(self, runloop_name='main')", "typings"),
    "omni.kit.app.IApp.post_quit": Api("(self, return_code=0)", "typings"),
    "omni.kit.app.IApp.next_update_async": Api(
        "(self, name='omni.kit.app.next_update_async', order=50)", "typings"
    ),
    "carb.events.IEventStream.create_subscription_to_pop": Api("(self, fn, order=0, name=None)", "typings"),
    "carb.events.ISubscription.unsubscribe": Api("(self)", "typings"),
    "omni.kit.async_engine.run_coroutine": Api("(coroutine)", "typings"),
    "omni.usd.get_context": Api("(name='')", "typings"),
    "omni.usd.UsdContext.open_stage": Api("(self, url, on_finish_fn=None, load_set=None)", "typings"),
    "omni.usd.UsdContext.new_stage_async": Api("(self, load_set=None)", "typings"),
}

# Documented Replicator differences: name -> changed signature, or None where the name does not exist.
VERSIONS: dict[str, dict[str, Api | None]] = {
    "current": {},
    # The current source documents `num_frames` as "(Will be deprecated) Replaced by max_execs"; the
    # OnFrame node page lists numFrames and no maxExecs: releases before max_execs took num_frames only.
    "on_frame-num_frames": {
        "rep.trigger.on_frame": Api(
            "(interval=1, num_frames=0, name='on_frame', rt_subframes=1)", "ogn-onframe"
        )
    },
    # Annotators without `device=` / `do_array_copy=` (data comes back as CPU copies).
    "annotator-no-device": {
        "rep.AnnotatorRegistry.get_annotator": Api(
            "(name, init_params=None, render_product_idxs=(0,))", "rdoc-annotators"
        ),
        "rep.annotators.get": Api("(name, init_params=None, render_product_idxs=(0,))", "rdoc-annotators"),
        "rep.Annotator.get_data": Api("(self)", "rdoc-annotators"),
    },
    # Writers before `data_structure` (the 2022 writers.py has none): the payload is the legacy layout.
    "writer-legacy-payload": {},
    # 1.10.x indexes list Augmentation and augment(); augment_compose first appears in 1.11.
    "no-augment_compose": {"rep.annotators.augment_compose": None},
}
LEGACY_PAYLOAD_VERSIONS = frozenset({"writer-legacy-payload"})


def table(version: str = "current") -> dict[str, Api]:
    """The names that exist in ``version`` with their signatures."""
    merged = dict(API)
    for name, api in VERSIONS[version].items():
        if api is None:
            merged.pop(name, None)
        else:
            merged[name] = api
    return merged
