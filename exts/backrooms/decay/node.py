"""``DecayNode``: the graph node that plays every frame through a fresh stretch of VHS tape."""

from __future__ import annotations

from backrooms.decay.pipeline import VhsTape
from backrooms.decay.settings import NODE, resolve
from backrooms.graph.node import GraphContext, Node
from backrooms.graph.product import RGB, RenderProduct
from backrooms.params.store import Snapshot


class DecayNode(Node):
    """Degrades ``product["rgb"]`` in place; stateless, so any frame can be made alone."""

    kind = NODE

    def __init__(self, context: GraphContext) -> None:
        super().__init__(context)
        self.tape = VhsTape(context.width, context.height, context.device)

    def process(self, product: RenderProduct, params: Snapshot) -> None:
        values = params.node(NODE)
        settings = resolve(values, product.width, product.height, product.frame, self.context.seed)
        rgb = product[RGB]
        if settings.adversarial > 0.0:
            from backrooms.decay.adversarial import perturb_in_place

            perturb_in_place(rgb, settings)
        self.tape.apply(rgb, settings, self.context.fps)
