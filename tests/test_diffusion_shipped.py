"""The model we ship in models/remembered: small, loadable without pickles, and coherent in motion."""

import pytest
import torch

from backrooms.diffusion.data import clip_settings, clip_world, render_clip
from backrooms.diffusion.evaluate import (
    STILL_PANELS,
    evaluate_graph,
    mean_scores,
    run_node,
    scores,
    seed_difference,
    still_panels,
)
from backrooms.diffusion.metrics import warping_error
from backrooms.diffusion.model import Denoiser, parameter_count
from backrooms.diffusion.styles import DEFAULT_STYLE, models_dir

SHIPPED = models_dir() / DEFAULT_STYLE


def test_shipped_model_is_small_and_loads_from_safetensors():
    model = Denoiser.from_pretrained(SHIPPED)
    assert parameter_count(model) < 3_000_000
    assert (SHIPPED / "model.safetensors").is_file()
    assert not list(SHIPPED.glob("*.bin")) and not list(SHIPPED.glob("*.pt"))


def test_model_card_names_the_command_that_trains_it():
    card = (models_dir() / "MODEL_CARD.md").read_text()
    assert "backrooms train" in card


@pytest.mark.slow
def test_memory_lowers_the_warping_error_on_a_walk_the_model_never_saw():
    clip, _ = render_clip(*clip_world(7, 123), 8, 160, 120, clip_settings(7, 123), expensive_spp=1, scale=1)
    style = {"diffusion.style": str(SHIPPED)}
    with_memory = run_node(clip, style).frames
    frame_by_frame = run_node(
        clip, {**style, "diffusion.temporal_weight": 0.0, "diffusion.warp_noise": False}
    )
    a = warping_error(with_memory, clip.motion, clip.disocclusion)
    b = warping_error(frame_by_frame.frames, clip.motion, clip.disocclusion)
    assert a < 0.7 * b
    assert torch.isfinite(with_memory).all()


def test_graph_evaluation_traces_the_clips_own_walk_and_generates_frames_between():
    world, look = clip_world(7, 5), clip_settings(7, 5)
    clip, _ = render_clip(*world, 4, 96, 72, look, expensive_spp=1, scale=1)
    settings = ((1, 1.0), (2, 1.0))
    untouched = {"diffusion.strength": 0.0, "diffusion.temporal_weight": 0.0}  # no model, no memory
    kept = evaluate_graph(clip, world, {**look, **untouched}, str(SHIPPED), settings)
    assert kept["generate 1 scale 1"] == scores((clip.render + 1) / 2, clip)  # the render, untouched
    assert kept["generate 2 scale 1"] != kept["generate 1 scale 1"]  # frames 1 and 3 reprojected
    assert kept["generate 2 scale 1"]["psnr"] > 20


def test_graph_evaluation_at_half_scale_scores_the_reconstruction_against_the_target():
    """The graph at render.scale 0.5: the node reconstructs the render from the traced samples."""
    world, look = clip_world(7, 5), clip_settings(7, 5)
    clip, _ = render_clip(*world, 4, 96, 72, look, expensive_spp=1, scale=1)
    rows = evaluate_graph(clip, world, look, str(SHIPPED), ((1, 1.0), (1, 0.5)))
    half = rows["generate 1 scale 0.5"]
    assert 0 < half["ssim"] <= 1 and half["psnr"] > 10
    assert half != rows["generate 1 scale 1"]  # traced at a quarter of the rays, not the full render


def test_the_still_panels_warping_error_leaves_the_walks_flicker_out():
    """With the walk's panels flickering hard, the plain warping error of the same graph with the
    panels still is the lower one (the light's changes are what it leaves out), and only that
    score is reported: the target keeps the flicker. Those frames re-lit by the walk's change of
    light score between: following the flicker costs that much by itself; with no flicker to
    follow, nothing."""
    world = clip_world(7, 5)
    look = {**clip_settings(7, 5), "render.flicker": 1.0, "render.stutter": 0.6}
    clip, _ = render_clip(*world, 6, 96, 72, look, expensive_spp=1, scale=1)
    settings = ((1, 1.0),)
    flickering = evaluate_graph(clip, world, look, str(SHIPPED), settings)["generate 1 scale 1"]
    still = still_panels(clip, world, look, str(SHIPPED), settings)
    assert set(still) == {"generate 1 scale 1"}
    row = still["generate 1 scale 1"]
    assert 0 < row["warping_error"] < 0.8 * flickering["warping_error"]
    assert 1.2 * row["warping_error"] < row["light_followed"] < 1.2 * flickering["warping_error"]
    calm = still_panels(clip, world, {**look, **STILL_PANELS}, str(SHIPPED), settings)["generate 1 scale 1"]
    assert calm["warping_error"] == row["warping_error"]
    assert calm["light_followed"] == pytest.approx(calm["warping_error"], rel=1e-3)


def test_seed_difference_is_zero_for_one_seed_and_visible_for_two():
    clip, _ = render_clip(*clip_world(7, 6), 4, 96, 72, clip_settings(7, 6), expensive_spp=1, scale=1)
    style = {"diffusion.style": str(SHIPPED)}
    assert seed_difference(clip, style, (3, 3)) == {"frame": 0.0, "walls": 0.0, "carpet": 0.0}
    apart = seed_difference(clip, style)
    assert apart["frame"] > 0.5 and apart["walls"] > 0.5


def test_scores_across_held_out_walks_are_each_walks_rows_averaged():
    rows = []
    for index in (7, 8):
        world, look = clip_world(7, index), clip_settings(7, index)
        clip, _ = render_clip(*world, 3, 96, 72, look, expensive_spp=1, scale=1)
        node = scores(run_node(clip, {"diffusion.style": str(SHIPPED)}).frames, clip)
        rows.append({"node": node, **evaluate_graph(clip, world, look, str(SHIPPED), ((1, 0.5),))})
    assert rows[0] != rows[1]
    mean = mean_scores(rows)
    assert set(mean) == {"node", "generate 1 scale 0.5"}
    for output, names in mean.items():
        assert set(names) == set(rows[0][output])
        for name, value in names.items():
            assert value == pytest.approx((rows[0][output][name] + rows[1][output][name]) / 2)
