"""The web preview in headless Chromium: load the page, move a slider, see the change in later frames.

Chromium is driven over the DevTools protocol with a real WebSocket client; the slider is moved with
a real mouse click on its track.
"""

import asyncio
import itertools
import json
import os
import shutil
import subprocess
import threading
import time
import urllib.request

import numpy as np
import pytest
import websockets

from backrooms.control.session import LiveOptions, LiveSession
from backrooms.params import Registry

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",
]
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


@pytest.fixture
def browser(tmp_path):
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the browser test: `make test` installs Debian's chromium as root")
        pytest.skip("Debian package chromium is not installed")
    profile = tmp_path / "profile"
    proc = subprocess.Popen(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (port_file.exists() and port_file.read_text().strip()):
            assert time.monotonic() < deadline and proc.poll() is None, "chromium did not start"
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as response:
            pages = [t for t in json.loads(response.read()) if t["type"] == "page"]
        yield pages[0]["webSocketDebuggerUrl"]
    finally:
        proc.terminate()
        proc.wait(10)


class DevTools:
    def __init__(self, ws) -> None:
        self.ws = ws
        self.ids = itertools.count(1)

    async def call(self, method: str, **params):
        call_id = next(self.ids)
        await self.ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            reply = json.loads(await self.ws.recv())
            if reply.get("id") == call_id:
                assert "error" not in reply, reply
                return reply["result"]

    async def eval(self, expression: str):
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    async def until(self, expression: str, timeout: float = 20.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = await self.eval(expression)
            if value:
                return value
            await asyncio.sleep(0.05)
        raise AssertionError(f"timed out waiting for {expression}")


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
