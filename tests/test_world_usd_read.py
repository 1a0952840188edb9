"""The one USD mesh reader: both policies triangulate alike and honour leftHanded winding."""

import numpy as np
import pytest
from pxr import Sdf, Usd, UsdGeom

from backrooms.errors import UserError
from backrooms.world.usd_read import read_mesh

DEFAULT = Usd.TimeCode.Default()


@pytest.fixture
def stage():
    return Usd.Stage.CreateInMemory()


def pentagon(stage, orientation: str, with_normals: bool = True) -> UsdGeom.Mesh:
    mesh = UsdGeom.Mesh.Define(stage, f"/{orientation}{int(with_normals)}")
    mesh.CreatePointsAttr([(0, 0, 0), (1, 0, 0), (1, 0, 1), (0.5, 0, 1.5), (0, 0, 1)])
    mesh.CreateFaceVertexCountsAttr([5])
    mesh.CreateFaceVertexIndicesAttr([0, 1, 2, 3, 4])
    mesh.CreateOrientationAttr(orientation)
    if with_normals:
        mesh.CreateNormalsAttr([(0, 1, 0)] * 5)
        mesh.SetNormalsInterpolation(UsdGeom.Tokens.vertex)
    st = UsdGeom.PrimvarsAPI(mesh).CreatePrimvar("st", Sdf.ValueTypeNames.TexCoord2fArray, "vertex")
    st.Set([(0, 0), (1, 0), (1, 1), (0.5, 1.5), (0, 1)])
    return mesh


def winding(part) -> np.ndarray:
    """The y component of each triangle's geometric normal (+ for counter-clockwise seen from above)."""
    p = part.points[part.triangles]
    return np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0])[:, 1]


@pytest.mark.parametrize("strict", [None, "proto.usda: /mesh"])
def test_left_handed_meshes_are_wound_the_other_way_by_both_readers(stage, strict):
    right = read_mesh(pentagon(stage, "rightHanded"), np.eye(4), DEFAULT, strict)
    left = read_mesh(pentagon(stage, "leftHanded"), np.eye(4), DEFAULT, strict)
    assert len(right.triangles) == 3 and right.face_of.tolist() == [0, 0, 0]
    assert (winding(right) < 0).all() and (winding(left) > 0).all()


def test_strict_reading_refuses_what_lenient_reading_repairs(stage):
    mesh = pentagon(stage, "rightHanded", with_normals=False)
    lenient = read_mesh(mesh, np.eye(4), DEFAULT)
    assert np.allclose(np.abs(lenient.normals[:, 1]), 1.0)  # computed from the winding
    with pytest.raises(UserError, match=r"^proto.usda: /mesh: needs one vertex-interpolated normal"):
        read_mesh(mesh, np.eye(4), DEFAULT, strict="proto.usda: /mesh")


def test_broken_topology_is_one_line_with_either_policy(stage):
    mesh = pentagon(stage, "rightHanded")
    mesh.GetFaceVertexIndicesAttr().Set([0, 1, 2, 3, 9])
    with pytest.raises(ValueError, match="faceVertexIndices point outside the 5 points"):
        read_mesh(mesh, np.eye(4), DEFAULT)
    with pytest.raises(UserError, match="faceVertexIndices point outside the 5 points"):
        read_mesh(mesh, np.eye(4), DEFAULT, strict="p")
