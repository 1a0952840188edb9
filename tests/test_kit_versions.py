"""The adapter against the stand-in configured as each documented Replicator version (not Kit).

``kit_standin.signatures.VERSIONS`` lists what differs from the current source, each with its source:
``on_frame(num_frames=)`` before ``max_execs=``, annotators without ``device=``/``do_array_copy=``,
writers that receive the legacy payload layout, and releases without ``augment_compose``. The headless
batch and the live extension must work in every one.
"""

import socket
import sys

import numpy as np
import pytest

import kit_standin
from backrooms.io.png import read_png
from kit_standin.batch import run_batch
from kit_standin.signatures import VERSIONS

W, H = 32, 24


@pytest.fixture(params=list(VERSIONS))
def version(request):
    return request.param


def frames_written(out):
    return sorted(p.relative_to(out).as_posix() for p in out.rglob("frame_*.png"))


def test_the_batch_renders_its_frames_in_every_version(version, monkeypatch, tmp_path):
    rec = run_batch(monkeypatch, tmp_path, version)
    folder = "render_product" if version == "writer-legacy-payload" else "Render_RenderProduct"
    assert frames_written(tmp_path) == [f"{folder}/frames/frame_{f:06d}.png" for f in (10, 11, 12)]
    on_frame = [kw for _, kw in rec.called("rep.trigger.on_frame") if "interval" not in kw]
    assert on_frame == [{"num_frames": 3} if version == "on_frame-num_frames" else {"max_execs": 3}]


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_extension_starts_previews_and_shuts_down_cleanly_in_every_version(version, monkeypatch):
    settings = {
        "/exts/backrooms/osc_port": free_port(),
        "/exts/backrooms/preview_width": W,
        "/exts/backrooms/preview_height": H,
    }
    rec = kit_standin.install(monkeypatch, settings, version=version)
    from backrooms.kit import BackroomsExtension

    ext = BackroomsExtension()
    ext.on_startup("backrooms-0.1.0")
    rec.annotator_data["LdrColor"] = np.full((H, W, 4), 128, np.uint8)
    for handle in rec.live("update_subscription"):
        handle.fn(None)
    ((args, _),) = rec.called("ui.ByteImageProvider.set_bytes_data")
    assert args[1] == [W, H]
    rep = sys.modules["omni.replicator.core"]
    vhs = rep.annotators.get("backrooms_vhs")
    render_product = rep.create.render_product("/OmniverseKit_Persp", (W, H))
    vhs.attach(render_product)
    assert not np.array_equal(vhs.get_data(), rec.annotator_data["LdrColor"])
    vhs.detach()
    render_product.destroy()
    ext.on_shutdown()
    assert rec.live() == []
    if version == "annotator-no-device":
        assert all(kw == {} for _, kw in rec.called("rep.AnnotatorRegistry.get_annotator"))


def test_the_writer_takes_both_payload_layouts(monkeypatch, tmp_path):
    kit_standin.install(monkeypatch)
    from backrooms.kit.writer import BackroomsWriter

    recipe = tmp_path / "r.toml"
    recipe.write_text('nodes = ["render"]\n')
    writer = BackroomsWriter(output_dir=str(tmp_path), recipe=str(recipe), device="cpu")
    frame = np.full((H, W, 4), 60, np.uint8)
    current = {"renderProducts": {"/Render/RP_a": {"LdrColor": {"data": frame}}}, "reference_time": (0, 1)}
    writer.write(current)
    writer.write({"LdrColor": frame, "reference_time": (0, 1)})
    assert frames_written(tmp_path) == [
        "Render_RP_a/frames/frame_000000.png",
        "render_product/frames/frame_000000.png",
    ]
    assert read_png(tmp_path / "render_product" / "frames" / "frame_000000.png")[0, 0].tolist() == [60] * 3


def test_augmentation_functions_are_held_to_replicators_rules(monkeypatch):
    kit_standin.install(monkeypatch)
    rep = sys.modules["omni.replicator.core"]
    from backrooms.kit.live import decay_augmentation

    rep.annotators.Augmentation.from_function(decay_augmentation, seed=3)  # ours: data_in, seed

    def with_output(data_in, data_out):  # data_out is for Warp kernels only
        pass

    def needs_sigma(data_in, sigma):
        pass

    with pytest.raises(kit_standin.AugmentationError, match="data_out"):
        rep.annotators.Augmentation.from_function(with_output)
    with pytest.raises(kit_standin.AugmentationError, match="missing required arguments"):
        rep.annotators.Augmentation.from_function(needs_sigma)
    for misspelt in ({"sed": 3}, {"data_out_shap": (1,)}):
        with pytest.raises(kit_standin.AugmentationError, match="not parameters"):
            rep.annotators.Augmentation.from_function(decay_augmentation, **misspelt)
    with pytest.raises(TypeError):
        rep.annotators.Augmentation.from_function(data_out_shape=(1,))  # no function
