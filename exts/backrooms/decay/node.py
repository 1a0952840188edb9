"""``DecayNode``: the graph node that plays every frame through a fresh stretch of VHS tape."""

from __future__ import annotations

from backrooms.decay import events
from backrooms.decay.pipeline import VhsTape
from backrooms.decay.settings import NODE, resolve
from backrooms.graph.node import GraphContext, Node
from backrooms.graph.product import RGB, RenderProduct
from backrooms.params.store import Snapshot

TAPE_EVENTS = "tape_events"  # product.meta key: {event name: strength 0..1} of this frame


class DecayNode(Node):
    """Degrades ``product["rgb"]`` in place and writes the frame's tape events into ``product.meta``.

    The tape and its scheduled events are stateless; the only memory is which fired-event counters
    moved on which frame, so a seek replays ``events.longest_frames`` once any event was fired.
    """

    kind = NODE

    def __init__(self, context: GraphContext) -> None:
        super().__init__(context)
        self.tape = VhsTape(context.width, context.height, context.device)
        self.firings = events.Firings()

    def history(self, frame: int, params: Snapshot) -> int:
        values = params.node(NODE)
        if any(int(values[events.FIRE + name]) for name in events.EVENTS):
            return frame - events.longest_frames(self.context.fps)
        return frame

    def reset(self) -> None:
        self.firings.reset()

    def process(self, product: RenderProduct, params: Snapshot) -> None:
        values = params.node(NODE)
        settings = resolve(values, product.width, product.height, product.frame, self.context.seed)
        fps = self.context.fps
        self.firings.see(values, product.frame)
        playing = events.track(
            values, settings.seed, product.frame, fps, settings.wear, float(values["noise"])
        )
        playing |= self.firings.playing(settings.seed, product.frame, fps)
        product.meta[TAPE_EVENTS] = {name: e.strength for name, e in playing.items()}
        settings = events.apply(settings, playing)
        rgb = product[RGB]
        if settings.adversarial > 0.0:
            from backrooms.decay.adversarial import perturb_in_place

            perturb_in_place(rgb, settings)
        self.tape.apply(rgb, settings, fps)
