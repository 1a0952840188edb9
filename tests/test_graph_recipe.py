"""Recipe validation names the file, the key and the problem."""

import pytest

from backrooms.graph.recipe import DEFAULT_SOURCE, RecipeError, load_recipe, parse_size


def write(tmp_path, text):
    path = tmp_path / "r.toml"
    path.write_text(text)
    return path


def test_builtin_default_recipe_renders_render_diffusion_decay():
    recipe = load_recipe()
    assert recipe.source == DEFAULT_SOURCE
    assert recipe.nodes == ("render", "diffusion", "camcorder", "decay", "audio")
    assert (recipe.width, recipe.height) == (320, 240)
    assert recipe.frames == round(5 * recipe.fps)


def test_seconds_become_frames_at_the_recipe_rate(tmp_path):
    path = write(tmp_path, 'nodes = ["render"]\n[output]\nfps = 30\nseconds = 2\n')
    assert load_recipe(path).frames == 60


def test_a_length_in_seconds_stays_seconds_when_the_frame_rate_changes():
    recipe = load_recipe()
    assert recipe.seconds == 5
    assert recipe.with_overrides(fps=30).frames == 150
    assert recipe.with_overrides(frames=7).with_overrides(fps=30).frames == 7
    assert recipe.with_overrides(seconds=2, fps=25).frames == 50


def test_render_fps_30_on_the_default_recipe_renders_its_five_seconds(tmp_path):
    from backrooms.cli import build_parser
    from backrooms.graph.catalog import CATALOG
    from backrooms.options import recipe_from_args

    args = build_parser().parse_args(["render", "--fps", "30", "--out", str(tmp_path)])
    args.catalog = CATALOG
    recipe, _ = recipe_from_args(args)
    assert (recipe.fps, recipe.frames) == (30.0, 150)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('nodes = ["render"]\ncolour = 1\n', "colour: unknown key"),
        ('nodes = ["render", "bloom"]\n', "nodes: unknown node 'bloom'"),
        ('nodes = ["decay"]\n', "first node must be 'render'"),
        ('nodes = ["render"]\n[output]\nsize = "321x240"\n', "output.size"),
        ('nodes = ["render"]\n[output]\nframes = -3\n', "output.frames"),
        ('nodes = ["render"]\n[output]\nframes = 2073601\n', "output.frames: the clip would end 86400 s in"),
        ('nodes = ["render"]\n[output]\nfps = 241\n', "output.fps: 241 is not a frame rate from 1 to 240"),
        ('nodes = ["render"]\n[output]\nseed = 18446744073709551616\n', "over the largest seed"),
        ('nodes = ["render"]\n[output]\ndevice = "tpu"\n', "output.device"),
        ('nodes = ["render"]\n[output]\nfps = 30\nseconds = 2\nframes = 3\n', "not both"),
        ('nodes = ["render"]\n[params.decay]\nnoize = 1\n', "params.decay.noize: unknown parameter"),
        ('nodes = ["render"\n', "not valid TOML"),
    ],
)
def test_invalid_recipe_error_names_file_key_and_problem(tmp_path, text, fragment):
    path = write(tmp_path, text)
    with pytest.raises(RecipeError) as info:
        load_recipe(path)
    message = str(info.value)
    assert message.startswith(str(path))
    assert fragment in message
    assert "\n" not in message


def test_missing_recipe_file_is_a_one_line_error(tmp_path):
    with pytest.raises(RecipeError, match="cannot read recipe"):
        load_recipe(tmp_path / "nope.toml")


@pytest.mark.parametrize("text", ["320", "320x", "axb", "0x240", "20000x240", "321x241"])
def test_bad_sizes_are_refused(text):
    with pytest.raises(Exception, match="size"):
        parse_size(text)


def recipe_for(tmp_path, *cli):
    from backrooms.cli import build_parser
    from backrooms.graph.catalog import CATALOG
    from backrooms.options import recipe_from_args

    args = build_parser().parse_args(["render", *cli, "--out", str(tmp_path)])
    args.catalog = CATALOG
    return recipe_from_args(args)[0]


@pytest.mark.parametrize(("standard", "fps"), [("ntsc", 24.0), ("pal", 25.0), ("secam", 25.0)])
def test_a_recipe_without_fps_runs_at_its_colour_standards_rate_and_seconds_follow(tmp_path, standard, fps):
    recipe = recipe_for(tmp_path, "--set", f"decay.standard={standard}")
    assert (recipe.fps, recipe.frames) == (fps, round(5 * fps))


def test_an_explicit_fps_wins_over_the_standard_on_the_command_line_and_in_the_recipe(tmp_path):
    assert recipe_for(tmp_path, "--set", "decay.standard=pal", "--fps", "24").fps == 24.0
    pal = '[params.decay]\nstandard = "pal"\n'
    path = write(tmp_path, f'nodes = ["render", "decay"]\n[output]\nfps = 30\n{pal}')
    assert load_recipe(path).fps == 30.0
    assert recipe_for(tmp_path, "--recipe", str(path), "--set", "decay.standard=secam").fps == 30.0


def test_a_recipes_own_standard_sets_its_rate(tmp_path):
    secam = '[params.decay]\nstandard = "secam"\n'
    path = write(tmp_path, f'nodes = ["render", "decay"]\n[output]\nseconds = 2\n{secam}')
    assert (load_recipe(path).fps, load_recipe(path).frames) == (25.0, 50)
    assert load_recipe(path).with_overrides(fps=24).frames == 48
