"""USD stages of instanced meshes load into the same two-level structures the world view uses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pxr import Gf, Sdf, Usd, UsdGeom, UsdLux, UsdShade, Vt

from backrooms.graph.product import RenderProduct
from backrooms.params import ParamStore
from backrooms.render.renderer import Renderer
from backrooms.render.scene import Scene
from backrooms.render.usd_scene import view_from_stage
from backrooms.world.types import Camera

W, H = 48, 36
LOOK_DOWN = np.array([[1, 0, 0], [0, 0, 1], [0, -1, 0]], np.float32)  # columns right, up (-z), back (+y)


def material(stage: Usd.Stage, path: str, color: tuple, pattern: str) -> UsdShade.Material:
    mat = UsdShade.Material.Define(stage, path)
    shader = UsdShade.Shader.Define(stage, f"{path}/Surface")
    shader.CreateIdAttr("UsdPreviewSurface")
    shader.CreateInput("diffuseColor", Sdf.ValueTypeNames.Color3f).Set(Gf.Vec3f(*color))
    shader.CreateInput("roughness", Sdf.ValueTypeNames.Float).Set(0.7)
    mat.CreateSurfaceOutput().ConnectToSource(shader.ConnectableAPI(), "surface")
    mat.GetPrim().CreateAttribute("backrooms:pattern", Sdf.ValueTypeNames.String, custom=True).Set(pattern)
    return mat


def quad_mesh(stage: Usd.Stage, path: str, corners: list, mat: UsdShade.Material) -> UsdGeom.Mesh:
    mesh = UsdGeom.Mesh.Define(stage, path)
    mesh.CreatePointsAttr(Vt.Vec3fArray([Gf.Vec3f(*c) for c in corners]))
    mesh.CreateFaceVertexCountsAttr([4])
    mesh.CreateFaceVertexIndicesAttr([0, 1, 2, 3])
    UsdShade.MaterialBindingAPI.Apply(mesh.GetPrim()).Bind(mat)
    return mesh


@pytest.fixture(scope="module")
def cell_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 4 m cell prototype: carpet floor, ceiling, and one downward panel at 2.6 m."""
    path = tmp_path_factory.mktemp("usd") / "cell.usda"
    stage = Usd.Stage.CreateNew(str(path))
    root = UsdGeom.Xform.Define(stage, "/Cell")
    stage.SetDefaultPrim(root.GetPrim())
    carpet = material(stage, "/Cell/Looks/carpet", (0.5, 0.4, 0.2), "carpet")
    tiles = material(stage, "/Cell/Looks/ceiling", (0.8, 0.8, 0.7), "ceiling_tile")
    quad_mesh(stage, "/Cell/Geometry/Floor", [(-2, 0, 2), (2, 0, 2), (2, 0, -2), (-2, 0, -2)], carpet)
    quad_mesh(
        stage, "/Cell/Geometry/Ceiling", [(-2, 2.7, -2), (2, 2.7, -2), (2, 2.7, 2), (-2, 2.7, 2)], tiles
    )
    light = UsdLux.RectLight.Define(stage, "/Cell/Lights/Panel")
    light.CreateWidthAttr(0.6)
    light.CreateHeightAttr(1.2)
    light.CreateIntensityAttr(12.0)
    xf = UsdGeom.Xformable(light)
    xf.AddTranslateOp().Set(Gf.Vec3d(0, 2.6, 0))
    xf.AddRotateXOp().Set(-90.0)
    stage.GetRootLayer().Save()
    return path


@pytest.fixture(scope="module")
def hallway(cell_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Usd.Stage:
    """Three instanceable references to the cell, 4 m apart along -z."""
    path = tmp_path_factory.mktemp("usd") / "hallway.usda"
    stage = Usd.Stage.CreateNew(str(path))
    for k in range(3):
        prim = UsdGeom.Xform.Define(stage, f"/World/Cell_{k}")
        prim.AddTranslateOp().Set(Gf.Vec3d(0, 0, -4.0 * k))
        prim.GetPrim().GetReferences().AddReference(str(cell_file))
        prim.GetPrim().SetInstanceable(True)
    stage.GetRootLayer().Save()
    return Usd.Stage.Open(str(path))


def render(stage: Usd.Stage, camera: Camera) -> dict[str, np.ndarray]:
    store = ParamStore()
    store.update({"render.distortion": 0.0})
    product = RenderProduct(0, W, H, "cpu")
    Renderer(W, H).render(
        Scene.from_stage(stage), camera, camera, product, store.snapshot().node("render"), 0
    )
    return {name: buf.numpy() for name, buf in product.buffers.items()}


def test_instances_share_one_prototype_mesh(hallway: Usd.Stage) -> None:
    view = view_from_stage(hallway)
    assert len(view.library.meshes) == 1
    assert len(view.library.meshes[0].triangles) == 4  # floor + ceiling, merged
    np.testing.assert_allclose(view.instances.transform[:, 2, 3], [0.0, -4.0, -8.0])
    assert len(set(view.instances.key.tolist())) == 3


def test_materials_come_from_preview_surfaces_and_the_pattern_attribute(hallway: Usd.Stage) -> None:
    lib = view_from_stage(hallway).library
    by_name = {m.name: m for m in lib.materials}
    assert by_name["carpet"].pattern == "carpet" and by_name["ceiling"].pattern == "ceiling_tile"
    assert by_name["carpet"].albedo == pytest.approx((0.5, 0.4, 0.2))
    floor_tris = lib.meshes[0].tri_material[:2]
    assert {lib.materials[i].name for i in floor_tris} == {"carpet"}


def test_rect_lights_inside_prototypes_become_downward_panels(hallway: Usd.Stage) -> None:
    lights = view_from_stage(hallway).lights
    np.testing.assert_allclose(lights.position, [[0, 2.6, 0], [0, 2.6, -4], [0, 2.6, -8]], atol=1e-6)
    np.testing.assert_allclose(lights.half_size, [[0.3, 0.6]] * 3, atol=1e-6)
    np.testing.assert_allclose(lights.intensity, 1.0)


def test_the_stage_renders_with_analytic_depth_and_one_id_per_cell(hallway: Usd.Stage) -> None:
    down = Camera(np.array([0.0, 1.5, -4.0], np.float32), LOOK_DOWN, fov_y=30.0)
    out = render(hallway, down)
    keys = view_from_stage(hallway).instances.key  # crc32 of each instance's prim path
    assert out["distance_to_camera"][H // 2, W // 2] == pytest.approx(1.5, rel=1e-3)  # half a pixel off axis
    assert out["instance_id"][H // 2, W // 2] == keys[1]
    along = Camera(np.array([0.0, 1.5, 1.9], np.float32), np.eye(3, dtype=np.float32), fov_y=60.0)
    assert set(np.unique(render(hallway, along)["instance_id"])) >= set(keys.tolist())


def test_point_instancer_places_its_prototype_at_each_position(tmp_path: Path) -> None:
    stage = Usd.Stage.CreateNew(str(tmp_path / "posts.usda"))
    grey = material(stage, "/World/Looks/grey", (0.4, 0.4, 0.4), "plain")
    inst = UsdGeom.PointInstancer.Define(stage, "/World/Posts")
    quad_mesh(
        stage, "/World/Posts/Prototypes/Slab/Top", [(-1, 0, 1), (1, 0, 1), (1, 0, -1), (-1, 0, -1)], grey
    )
    inst.CreatePrototypesRel().SetTargets([Sdf.Path("/World/Posts/Prototypes/Slab")])
    inst.CreateProtoIndicesAttr([0, 0, 0])
    inst.CreatePositionsAttr([Gf.Vec3f(0, 0.5, 0), Gf.Vec3f(5, 1.0, 0), Gf.Vec3f(-5, 2.0, 0)])
    view = view_from_stage(stage)
    assert len(view.library.meshes) == 1 and len(view.instances.mesh) == 3
    np.testing.assert_allclose(view.instances.transform[:, :3, 3], [[0, 0.5, 0], [5, 1, 0], [-5, 2, 0]])
    above = Camera(np.array([5.0, 4.0, 0.0], np.float32), LOOK_DOWN, fov_y=10.0)
    assert render(stage, above)["distance_to_camera"][H // 2, W // 2] == pytest.approx(3.0, rel=1e-3)


def test_a_stage_without_meshes_is_refused(tmp_path: Path) -> None:
    stage = Usd.Stage.CreateInMemory()
    UsdGeom.Xform.Define(stage, "/Empty")
    with pytest.raises(ValueError, match="no visible meshes"):
        view_from_stage(stage)


def test_the_worlds_usd_export_renders_like_the_world_itself(tmp_path: Path) -> None:
    from backrooms.graph.node import GraphContext
    from backrooms.render.node import RenderNode
    from backrooms.render.usd_scene import camera_from_stage
    from backrooms.world.stage import Region, write_stage

    node = RenderNode(GraphContext(seed=11, width=W, height=H, fps=24.0, device="cpu"))
    params = ParamStore(values={"render.scale": 1.0}).snapshot()  # both traced at full size
    world = node.world(params)
    x, z = world.start_cell()
    write_stage(world, Region(x - 12, z - 12, x + 12, z + 12), tmp_path / "walk.usda", frames=31, fps=24.0)
    stage = Usd.Stage.Open(str(tmp_path / "walk.usda"))
    camera, previous = camera_from_stage(stage, 30), camera_from_stage(stage, 29)
    np.testing.assert_allclose(camera.position, world.camera(30, 24.0).position, atol=1e-5)

    direct = RenderProduct(30, W, H, "cpu")
    node.process(direct, params)
    exported = RenderProduct(30, W, H, "cpu")
    Renderer(W, H).render(Scene.from_stage(stage), camera, previous, exported, params.node("render"), 11)
    a, b = direct["distance_to_camera"].numpy(), exported["distance_to_camera"].numpy()
    near = a < 20.0  # the exported region is 96 m across; compare what lies well inside it
    assert near.mean() > 0.8
    assert (np.abs(a - b)[near] < 1e-3).mean() > 0.98
    mv_a, mv_b = direct["motion_vectors"].numpy(), exported["motion_vectors"].numpy()
    assert (np.abs(mv_a - mv_b)[near].max(axis=-1) < 0.01).mean() > 0.98


def test_a_diffuse_texture_shows_through_face_varying_uvs(tmp_path: Path) -> None:
    from PIL import Image

    Image.fromarray(np.array([[[255, 0, 0], [0, 0, 255]], [[0, 0, 255], [255, 0, 0]]], np.uint8)).resize(
        (64, 64), Image.NEAREST
    ).save(tmp_path / "checker.png")  # red top-left and bottom-right, blue elsewhere
    stage = Usd.Stage.CreateNew(str(tmp_path / "textured.usda"))
    mat = UsdShade.Material.Define(stage, "/World/Looks/checker")
    surface = UsdShade.Shader.Define(stage, "/World/Looks/checker/Surface")
    surface.CreateIdAttr("UsdPreviewSurface")
    image = UsdShade.Shader.Define(stage, "/World/Looks/checker/Image")
    image.CreateIdAttr("UsdUVTexture")
    image.CreateInput("file", Sdf.ValueTypeNames.Asset).Set(str(tmp_path / "checker.png"))
    surface.CreateInput("diffuseColor", Sdf.ValueTypeNames.Color3f).ConnectToSource(
        image.ConnectableAPI(), "rgb"
    )
    mat.CreateSurfaceOutput().ConnectToSource(surface.ConnectableAPI(), "surface")
    wall = quad_mesh(stage, "/World/Wall", [(-1, 0, -2), (1, 0, -2), (1, 2, -2), (-1, 2, -2)], mat)
    st = UsdGeom.PrimvarsAPI(wall).CreatePrimvar(
        "st", Sdf.ValueTypeNames.TexCoord2fArray, UsdGeom.Tokens.faceVarying
    )
    st.Set(Vt.Vec2fArray([Gf.Vec2f(0, 0), Gf.Vec2f(1, 0), Gf.Vec2f(1, 1), Gf.Vec2f(0, 1)]))
    light = UsdLux.RectLight.Define(stage, "/World/Light")
    light.CreateIntensityAttr(12.0)
    UsdGeom.Xformable(light).AddTranslateOp().Set(Gf.Vec3d(0, 2.5, -0.5))
    UsdGeom.Xformable(light).AddRotateXOp().Set(-90.0)
    camera = Camera(np.array([0.0, 1.0, 0.0], np.float32), np.eye(3, dtype=np.float32), fov_y=40.0)
    rgb = render(stage, camera)["rgb"][..., :3].astype(float)
    quadrant = {
        (row, col): rgb[H // 2 + row * 6 - 3, W // 2 + col * 6 - 3] for row in (0, 1) for col in (0, 1)
    }  # 3 px into each quarter of the wall around the image centre
    for (row, col), color in quadrant.items():
        red = row == col
        assert (color[0] > 2 * color[2]) if red else (color[2] > 2 * color[0]), (row, col, color)
