"""The web preview in headless Chromium: load the page, move a slider, see the change in later frames.

Chromium is driven over the DevTools protocol with a real WebSocket client; the slider is moved with
a real mouse click on its track.
"""

import asyncio
import threading

import numpy as np
import websockets

from backrooms.control.session import LiveOptions, LiveSession
from backrooms.params import Registry
from browser import DevTools, browser_fixture  # noqa: F401  (the fixture "browser")

PIXEL = """(() => {
  const img = document.getElementById("view");
  if (!img.naturalWidth) return -1;
  const canvas = document.createElement("canvas");
  canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
  const ctx = canvas.getContext("2d");
  ctx.drawImage(img, 0, 0);
  return ctx.getImageData(4, 4, 1, 1).data[0];
})()"""


def render(frame: int, snapshot) -> np.ndarray:
    """A frame whose red level shows decay.noise, so the page's pixels reveal the parameter."""
    rgb = np.zeros((32, 48, 4), np.uint8)
    rgb[..., 0] = round(snapshot["decay.noise"] * 255)
    return rgb


def test_moving_a_slider_changes_the_parameter_in_the_following_frames(browser):
    reg = Registry()
    reg.declare("decay", "noise", 0.0, "noise amount", min=0.0, max=1.0)
    options = LiveOptions(osc_port=0, osc_tcp_port=None, oscquery_port=None, preview_port=0, smoothing=0)
    with LiveSession(reg, {}, 30, render, options) as live:
        runner = threading.Thread(target=live.run)
        runner.start()
        try:
            result = asyncio.run(_drive(browser, live.preview.url))
        finally:
            live.loop.stop()
            runner.join()
        final = live.store.snapshot()["decay.noise"]
    frame_before, red_before, frame_after, red_after = result
    assert red_before < 10 and red_after > 240
    assert frame_after > frame_before
    assert final > 0.95


async def _drive(debugger_url: str, page_url: str):
    async with websockets.connect(debugger_url, max_size=None) as ws:
        tools = DevTools(ws)
        await tools.call("Page.navigate", url=page_url)
        await tools.until("document.body && document.body.dataset.frame")
        await tools.until(f"{PIXEL} >= 0")
        frame_before = int(await tools.eval("document.body.dataset.frame"))
        red_before = await tools.eval(PIXEL)
        box = await tools.eval(
            """(() => {
                const r = document.querySelector('input[data-key="decay.noise"]').getBoundingClientRect();
                return [r.right - 1, r.top + r.height / 2];
            })()"""
        )
        for kind in ("mousePressed", "mouseReleased"):
            await tools.call(
                "Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left", clickCount=1
            )
        red_after = await tools.until(f"(() => {{ const v = {PIXEL}; return v > 240 ? v : 0; }})()")
        frame_after = int(await tools.eval("document.body.dataset.frame"))
        return frame_before, red_before, frame_after, red_after
