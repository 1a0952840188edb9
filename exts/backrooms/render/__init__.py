"""Embedded Warp ray tracer: instance BVH + per-prototype mesh BVHs, Backrooms shading, Replicator AOVs."""
