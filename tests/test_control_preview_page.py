"""The performer's page of a real ``backrooms live --link`` process, in headless Chromium: the fps and
tempo readouts, a tape event button, and a scene saved, knobs changed and the scene recalled from the
page's buttons.

Values are checked three ways: on the page, in the process's targets (``/params.json``) and in the
take the process records (what its frames were rendered with).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import websockets

from backrooms.control.governor import LADDER
from backrooms.control.live import LATENCY
from browser import DevTools, browser_fixture  # noqa: F401  (the fixture "browser")
from takes import recorded

FPS = 24


def start_live(tmp_path: Path) -> tuple[subprocess.Popen, str, Path]:
    recipe = tmp_path / "show.toml"
    recipe.write_text(f'nodes = ["render", "decay"]\n[output]\nsize = "32x24"\nfps = {FPS}\n')
    take = tmp_path / "take.jsonl"
    command = [sys.executable, "-m", "backrooms.cli", "live", "--recipe", str(recipe), "--record", str(take)]
    command += ["--osc-port", "0", "--oscquery-port", "0", "--preview-port", "0", "--no-announce"]
    command += ["--smoothing", "0", "--link"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    banner = ""
    while "scenes " not in banner:
        line = proc.stdout.readline()
        assert line, f"backrooms live exited before listening: {banner}"
        banner += line
    url = re.search(r"preview\s+(http://127\.0\.0\.1:\d+/)", banner).group(1)
    return proc, url, take


def targets(url: str) -> dict:
    with urllib.request.urlopen(url + "params.json", timeout=10) as response:
        return json.loads(response.read())["values"]


def set_knob(key: str, value) -> str:
    """Move a page control as a user would (value, then its input/change event)."""
    return f"""(() => {{
      const el = document.querySelector('[data-key="{key}"]');
      el.value = {json.dumps(value)};
      el.dispatchEvent(new Event(el.tagName === "SELECT" ? "change" : "input"));
      return true;
    }})()"""


def shown(key: str) -> str:
    return f"""document.querySelector('[data-key="{key}"]').value"""


def test_scene_buttons_event_buttons_and_fps_readout_in_a_real_live_process(browser, tmp_path):
    proc, url, take = start_live(tmp_path)
    try:
        result = asyncio.run(_perform(browser, url, take, tmp_path / "show.scenes.json"))
    finally:
        proc.terminate()
        proc.wait(30)
    fps, dropped, page_values, process_values, applied = result
    assert 1.0 < fps <= FPS * 1.25, fps  # frames started per second, measured by the loop
    assert dropped >= 0
    assert page_values == {"decay.noise": 2.0, "decay.preset": "worn"}
    assert process_values == {"decay.noise": 2.0, "decay.preset": "worn"}
    assert applied == {"decay.noise": 2.0, "decay.preset": "worn"}


async def _perform(debugger_url: str, url: str, take: Path, scenes: Path):
    async with websockets.connect(debugger_url, max_size=None) as ws:
        tools = DevTools(ws)
        await tools.call("Page.navigate", url=url)
        await tools.until("document.body && document.body.dataset.ready && document.body.dataset.frame")
        # the rate of play, not of the warm-up: the first frames load kernels, and a readout taken
        # then can be under 1 fps on a busy machine (0.88 once, in a fresh clone's CI)
        await tools.until(f"Number(document.getElementById('frame').textContent) >= {2 * FPS}")
        fps = float(await tools.until("Number(document.body.dataset.fps) > 0 && document.body.dataset.fps"))
        text = await tools.eval("document.getElementById('fps').textContent")
        assert abs(float(text) - fps) < 0.06, (text, fps)
        dropped = int(await tools.eval("document.body.dataset.dropped"))
        # the rate is held (live's default): the step in use (the first unless the machine is swamped)
        quality = await tools.eval("document.getElementById('quality').textContent")
        assert quality in {f"{step}/{len(LADDER)}" for step in range(1, len(LADDER) + 1)}, quality
        latency = await tools.eval("document.getElementById('latency').textContent")
        assert latency == f"{LATENCY} ({round(1000 * LATENCY / FPS)} ms)", latency  # live's default
        # where each frame's time goes, node by node (the recipe's two nodes, in their order)
        costs = "document.getElementById('nodes').textContent"
        await tools.until(f"/^render [0-9]+ · decay [0-9]+ ms$/.test({costs})")
        readout = "document.getElementById('tempo').textContent"
        tempo = float(await tools.until(f"/^[0-9.]+$/.test({readout}) && {readout}"))
        assert 20.0 <= tempo <= 999.0, tempo  # Link's range (120 unless another peer on this host set it)
        await tools.until("document.body.dataset.beat !== undefined")

        await tools.eval("""document.querySelector('[data-event="decay.event/dropout_burst"]').click()""")
        await _wait(lambda: recorded(take, "decay.event/dropout_burst") == [1])

        await tools.eval(set_knob("decay.noise", 2.0))
        await tools.eval(set_knob("decay.preset", "worn"))
        await _wait(lambda: targets(url)["decay.noise"] == 2.0 and targets(url)["decay.preset"] == "worn")
        await _wait(lambda: recorded(take, "decay.noise")[-1:] == [2.0])  # the frames use it: save now
        await _wait(lambda: recorded(take, "decay.preset")[-1:] == ["worn"])
        await tools.eval("document.getElementById('scene-name').value = 'grain'")
        await tools.eval("document.getElementById('scene-node').value = 'decay'")
        await tools.eval("document.getElementById('scene-save').click()")
        await tools.until("""document.querySelector('[data-scene="grain"]') !== null""")
        assert json.loads(scenes.read_text())["grain"]["decay.noise"] == 2.0

        await tools.eval(set_knob("decay.noise", 4.0))
        await tools.eval(set_knob("decay.preset", "sp"))
        await _wait(lambda: recorded(take, "decay.noise")[-1:] == [4.0])
        await _wait(lambda: recorded(take, "decay.preset")[-1:] == ["sp"])
        assert float(await tools.eval(shown("decay.noise"))) == 4.0

        await tools.eval("""document.querySelector('[data-scene="grain"]').click()""")
        await tools.until(f"Number({shown('decay.noise')}) === 2 && {shown('decay.preset')} === 'worn'")
        page = {
            "decay.noise": float(await tools.eval(shown("decay.noise"))),
            "decay.preset": await tools.eval(shown("decay.preset")),
        }
        await _wait(lambda: recorded(take, "decay.noise")[-1:] == [2.0])
        await _wait(lambda: recorded(take, "decay.preset")[-1:] == ["worn"])
        now = targets(url)
        process = {key: now[key] for key in page}
        applied = {key: recorded(take, key)[-1] for key in page}
        return fps, dropped, page, process, applied


async def _wait(predicate, seconds: float = 30.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if predicate():
            return
        await asyncio.sleep(0.05)
    assert predicate(), inspect.getsource(predicate).strip()
