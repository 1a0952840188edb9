"""``backrooms bench``: every speed claim of the project, one command away."""

# Each area is a module backrooms.bench.<area> with ``run(quick: bool, device: str) -> list[Measurement]``
# (device: auto, cpu or cuda; see bench.core.targets).
AREAS: tuple[str, ...] = (
    "e2e",
    "chain",
    "scale",
    "render",
    "world",
    "live",
    "decay",
    "diffusion",
    "camcorder",
    "audio",
    "ndi",
)
