"""In-Kit checks of what the recording stand-in cannot show: Replicator really accepts our pieces."""

import tempfile
from pathlib import Path

import omni.kit.app
import omni.kit.test
import omni.replicator.core as rep
import omni.usd

from backrooms.kit.augment import ANNOTATOR
from backrooms.kit.writer import WRITER


class TestBackroomsInKit(omni.kit.test.AsyncTestCase):
    async def setUp(self):
        await omni.usd.get_context().new_stage_async()

    async def test_writer_and_annotator_are_registered(self):
        self.assertIn(WRITER, rep.WriterRegistry.get_writers())
        self.assertIsNotNone(rep.annotators.get(ANNOTATOR))

    async def test_writer_writes_decayed_frames_of_an_rtx_render(self):
        rep.create.light(light_type="Dome", intensity=1000)
        rep.create.cube(position=(0, 0, -3))
        camera = rep.create.camera(position=(0, 0, 2), look_at=(0, 0, -3))
        render_product = rep.create.render_product(camera, (64, 48))
        with tempfile.TemporaryDirectory() as out:
            writer = rep.WriterRegistry.get(WRITER)
            writer.initialize(output_dir=out, seed=1, device="cuda")
            writer.attach([render_product])
            await rep.orchestrator.run_until_complete_async(num_frames=3)
            writer.detach()
            render_product.destroy()
            await omni.kit.app.get_app().next_update_async()
            self.assertEqual(len(list(Path(out).rglob("frame_*.png"))), 3)
