"""BackroomsWriter against the RECORDING STAND-IN of omni.replicator.core: real nodes, PNGs and MP4s."""

import numpy as np
import pytest

import kit_standin
from backrooms.io.mp4 import read_mp4, write_mp4
from backrooms.io.png import read_png

W, H = 32, 24


@pytest.fixture
def writer_class(monkeypatch):
    kit_standin.install(monkeypatch)
    from backrooms.kit.writer import BackroomsWriter

    return BackroomsWriter


def recipe(tmp_path, nodes):
    path = tmp_path / "r.toml"
    path.write_text(f"nodes = {nodes!r}\n".replace("'", '"'))
    return str(path)


def payload(value):
    rgba = np.full((H, W, 4), value, np.uint8)
    return {"renderProducts": {"/Render/RP_cam": {"LdrColor": {"data": rgba}}}}


def test_writer_asks_for_our_aovs_as_annotators(writer_class, tmp_path):
    writer = writer_class(output_dir=str(tmp_path), recipe=recipe(tmp_path, ["render"]), device="cpu")
    assert [a.name for a in writer.annotators] == [
        "LdrColor",
        "distance_to_camera",
        "normals",
        "motion_vectors",
    ]
    assert writer.data_structure == "renderProduct"


def test_writer_writes_numbered_pngs_and_an_mp4_per_render_product(writer_class, tmp_path):
    writer = writer_class(
        output_dir=str(tmp_path), recipe=recipe(tmp_path, ["render"]), start=10, device="cpu"
    )
    for value in (20, 120, 220):
        writer.write(payload(value))
    writer.on_final_frame()
    folder = tmp_path / "Render_RP_cam"
    frames = sorted(p.name for p in (folder / "frames").iterdir())
    assert frames == ["frame_000010.png", "frame_000011.png", "frame_000012.png"]
    assert read_png(folder / "frames" / "frame_000011.png")[0, 0].tolist() == [120, 120, 120]
    assert len(read_mp4(folder / "clip.mp4")) == 3
    # encoded along as the frames came: the clip the PNGs give when encoded afterwards
    write_mp4(tmp_path / "after.mp4", (read_png(p) for p in sorted((folder / "frames").iterdir())), 24.0)
    assert (folder / "clip.mp4").read_bytes() == (tmp_path / "after.mp4").read_bytes()


def test_writer_runs_the_recipe_decay_node_on_each_frame(writer_class, tmp_path):
    writer = writer_class(
        output_dir=str(tmp_path), recipe=recipe(tmp_path, ["render", "decay"]), device="cpu"
    )
    writer.write(payload(128))
    written = read_png(tmp_path / "Render_RP_cam" / "frames" / "frame_000000.png")
    assert not np.array_equal(written, np.full((H, W, 3), 128, np.uint8))
