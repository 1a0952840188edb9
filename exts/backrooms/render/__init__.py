"""Embedded Warp ray tracer: a uniform grid over placed instances, prototypes cut into thin parts with
a small mesh BVH each, camera tiles, Backrooms shading, Replicator AOVs (docs/render.md)."""
