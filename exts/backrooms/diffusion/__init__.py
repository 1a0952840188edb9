"""Temporally coherent stylisation: a small denoiser we train and ship, its sampler, backends and node.

Kept apart as diffusers keeps them: ``model`` (an nn.Module with a round-tripping config),
``sampler`` (step math only), ``pipeline`` (the algorithm, top to bottom), ``backends`` (where the
denoiser runs) and ``node`` (the graph node that owns temporal state).
"""
