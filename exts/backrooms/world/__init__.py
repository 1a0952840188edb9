"""The endless world: prototypes from usd/, the layout randomizer, streaming, and the camera autopilot."""

from backrooms.world.types import Camera, InstanceSet, LightSet, Material, Mesh, PrototypeLibrary, SceneView
from backrooms.world.world import World

__all__ = ["Camera", "InstanceSet", "LightSet", "Material", "Mesh", "PrototypeLibrary", "SceneView", "World"]
