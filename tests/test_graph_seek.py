"""A seek replays each node only from the frame it needs (``Executor.replay_starts``) and, until
the next node reads its output, only advances its state: the frame after the seek still has the
bytes of a long run, while the tape and the sound run no replayed frame at all."""

from collections import Counter

import pytest
import warp as wp

from backrooms.graph.executor import Executor
from backrooms.graph.node import GraphContext
from backrooms.graph.product import RGB
from backrooms.graph.recipe import load_recipe
from backrooms.params import ParamStore

FPS = 8.0  # the camcorder's servos remember 24 frames


def _executor(pipeline: bool = True) -> Executor:
    recipe = load_recipe()
    snapshot = ParamStore(values={**recipe.params, "diffusion.reset_interval": 10}).snapshot()
    context = GraphContext(recipe.seed, 32, 24, FPS, "cpu")
    return Executor(recipe.nodes, context, lambda _f: snapshot, pipeline=pipeline)


def _frame(product) -> tuple[bytes, bytes]:
    return wp.to_torch(product[RGB]).numpy().tobytes(), product.meta["audio"].tobytes()


def _counted(executor: Executor) -> Counter:
    """Counts each node's ``process`` and ``advance`` calls (the real methods still run)."""
    calls = Counter()

    def counting(call, key):
        def counted(*args):
            calls[key] += 1
            call(*args)

        return counted

    for node in executor.nodes[1:]:
        for name in ("process", "advance"):
            setattr(node, name, counting(getattr(node, name), (node.kind, name)))
    return calls


@pytest.mark.parametrize("pipeline", [True, False])  # the replay streamed through the stages, or not
def test_a_seek_runs_each_node_from_its_own_start_with_the_bytes_of_a_long_run(pipeline):
    long_run = _executor(pipeline=False)
    expected = {f: _frame(long_run.render(f)) for f in range(51)}
    long_run.close()
    assert len({rgb for rgb, _ in expected.values()}) == 51  # frames differ: the test can fail

    executor = _executor(pipeline)
    assert bool(executor.stages) == pipeline
    assert [node.kind for node in executor.nodes] == ["render", "diffusion", "camcorder", "decay", "audio"]
    # the camcorder needs 17.. (24 frames of meters), the diffusion node the traced frame before the
    # memory chain frame 17 shows began (4), the tape and the sound nothing before the frame
    assert executor.replay_starts(40) == [4, 4, 17, 40, 40]
    calls = _counted(executor)
    told = []
    executor.on_replay = lambda done, total: told.append((done, total))
    assert _frame(executor.render(40)) == expected[40]
    assert told == [(done, 36) for done in range(37)]  # 4..39, then the frame asked for
    assert calls == {
        ("diffusion", "advance"): 13,  # 4..16: read by nobody, but its memory is (a process)
        ("diffusion", "process"): 37,  # those and 17..40
        ("camcorder", "advance"): 23,  # 17..39: meters for the servos, nothing filmed
        ("camcorder", "process"): 1,
        ("decay", "process"): 1,
        ("audio", "process"): 1,
    }

    # a jump forward that every node can carry on to: the ones that start later than where the
    # nodes stopped (the tape, the sound) are reset there instead of running the frames between
    calls.clear()
    told.clear()
    assert executor.replay_starts(50)[0] <= 41
    assert _frame(executor.render(50)) == expected[50]
    assert told == [(done, 9) for done in range(10)]  # 41..49
    assert calls == {
        ("diffusion", "process"): 10,  # 41..50
        ("camcorder", "advance"): 9,  # 41..49
        ("camcorder", "process"): 1,
        ("decay", "process"): 1,
        ("audio", "process"): 1,
    }
    executor.close()
