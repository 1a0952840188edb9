"""Backrooms in Replicator: paste into Kit's Script Editor (Window > Script Editor) and run.

Needs the ``backrooms`` extension enabled (Window > Extensions, or ``--enable backrooms``): it
registers the ``backrooms_hallway`` randomizer, the ``backrooms_vhs`` annotator and the
``BackroomsWriter``. This script authors a hallway walk, re-rolls the cells' variants every 24
frames and on OSC reshuffles, and writes 48 stylised, decayed frames plus an MP4. Edit the values
below; nothing else needs to change. Not run on the machines this project was built on (no Kit).
It lives in ``backrooms.kit`` because only that package may import omni (never imported, only pasted).
"""

import omni.replicator.core as rep
import omni.usd

from backrooms.kit import hallway
from backrooms.kit.walk import write_walk_stage
from backrooms.kit.writer import WRITER
from backrooms.params import ParamStore

SEED = 7
FRAMES = 48
FPS = 24.0
SIZE = (640, 480)
OUT = "/tmp/backrooms_kit"
STAGE = f"{OUT}/hallway.usda"

rep.set_global_seed(SEED)
camera = write_walk_stage(STAGE, seed=SEED, start=0, frames=FRAMES, fps=FPS, params=ParamStore().snapshot())
omni.usd.get_context().open_stage(STAGE)

with rep.new_layer():
    hallway.add_triggers(reshuffle_every=24)
    with rep.trigger.on_frame(max_execs=FRAMES):  # older Replicator builds: num_frames=FRAMES
        rep.modify.timeline(rep.distribution.sequence(list(range(FRAMES))), "frame")
    render_product = rep.create.render_product(camera, SIZE)

    # Decayed LdrColor straight from an annotator (the augmentation), e.g. for your own writer:
    vhs = rep.annotators.get("backrooms_vhs")
    vhs.attach(render_product)

    writer = rep.WriterRegistry.get(WRITER)
    writer.initialize(output_dir=OUT, seed=SEED, fps=FPS, device="cuda")
    writer.attach([render_product])

rep.orchestrator.run()
