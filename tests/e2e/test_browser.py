"""In a real headless Chromium: ``deli-tui serve`` shows the app, ``deli-tui serve --attach``
the live dashboard of a headless run, and keys typed in the page reach the app.

The page draws the terminal on a canvas, so what it shows is read from what it receives: a
script put into the page before it loads keeps the text of every websocket message (the
terminal output, ANSI sequences and all), and the test reads it from there.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.test_tmux import require, wait_gone
from tests.servers.asgi import RunningServer
from tests.tui.conftest import write_collection

SAFETY_S = 60.0  # only a hang reaches it
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1280,800",
)
KEEP_TEXT = r"""
(() => {
  const Native = window.WebSocket;
  const decoder = new TextDecoder();
  window.__deliText = "";
  const keep = (text) => { window.__deliText = (window.__deliText + text).slice(-400000); };
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (event) => {
        const data = event.data;
        if (typeof data === "string") keep(data);
        else if (data instanceof ArrayBuffer) keep(decoder.decode(new Uint8Array(data)));
        else if (data instanceof Blob) data.arrayBuffer().then((b) => keep(decoder.decode(b)));
      });
    }
  };
})();
"""
ANSI = re.compile(r"\x1b(?:\[[0-9;?<>=$]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
RATE = re.compile(r"(\d+(?:\.\d+)?k?) req/s")
COUNT = re.compile(r"(\d+(?:\.\d+)?k?) req(?![/\w])")


def number(text: str) -> float:
    return float(text[:-1]) * 1000 if text.endswith("k") else float(text)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Page:
    """A Chromium tab on a served deli-tui, and the text it has received so far."""

    def __init__(self, driver: object) -> None:
        self.driver = driver

    def text(self) -> str:
        raw = self.driver.execute_script("return window.__deliText || ''")  # type: ignore[attr-defined]
        return ANSI.sub("", raw)

    def wait_for(self, check: Callable[[str], bool], what: str) -> str:
        deadline = time.monotonic() + SAFETY_S
        text = ""
        while time.monotonic() < deadline:
            text = self.text()
            if check(text):
                return text
            time.sleep(0.25)
        raise AssertionError(f"the page never showed {what}; its last text:\n{text[-3000:]}")

    def press(self, key: str) -> None:
        """Type ``key`` into the terminal, as a person would after clicking into it."""
        self.driver.find_element("css selector", ".textual-terminal").click()  # type: ignore[attr-defined]
        area = self.driver.find_element("css selector", ".xterm-helper-textarea")  # type: ignore[attr-defined]
        area.send_keys(key)


@pytest.fixture
def browser() -> Iterator[Callable[[str], Page]]:
    """Opens pages in one headless Chromium (Debian's chromium and chromium-driver)."""
    for program in (CHROMIUM, CHROMEDRIVER):
        if not Path(program).exists():
            pytest.fail(
                f"{program} is missing: this test drives a real browser "
                "(CI installs it; locally: apt-get install chromium chromium-driver)"
            )
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="deli-chromium-")
    options = Options()
    options.binary_location = CHROMIUM
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)

    def open_page(url: str) -> Page:
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": KEEP_TEXT})
        driver.get(url)
        return Page(driver)

    try:
        yield open_page
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def serve() -> Iterator[Callable[..., str]]:
    """Starts ``deli-tui serve ARGS`` on a free port; returns its URL once it answers. Once
    the server is stopped, no process it started (the app of each page) may be left."""
    started: list[subprocess.Popen[str]] = []
    marker = uuid.uuid4().hex
    environ = {**os.environ, "DELI_E2E_MARK": marker}

    def start(*args: str) -> str:
        port = free_port()
        command = [require("deli-tui"), "serve", *args, "--port", str(port)]
        proc = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=environ
        )
        started.append(proc)
        deadline = time.monotonic() + SAFETY_S
        while True:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    return f"http://127.0.0.1:{port}/"
            assert proc.poll() is None, proc.communicate()[1]
            assert time.monotonic() < deadline, "deli-tui serve never listened"
            time.sleep(0.1)

    yield start
    for proc in started:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    leftovers = wait_gone([], marker)
    assert leftovers == [], f"processes left behind by deli-tui serve: {leftovers}"


def test_serve_shows_the_app_and_a_key_typed_in_the_page_reaches_it(
    tmp_path: Path, browser: Callable[[str], Page], serve: Callable[..., str]
) -> None:
    root = write_collection(tmp_path / "shop", "http://127.0.0.1:9")
    page = browser(serve(str(root)))
    text = page.wait_for(lambda t: "shop" in t and "Requests" in t, "the requests screen")
    assert "get user" in text and "F1" in text
    page.press("\ue033")  # F3 (selenium's Keys.F3)
    page.wait_for(lambda t: "scenario smoke" in t, "the scenarios screen after F3")


def test_serve_attach_shows_the_live_numbers_of_a_headless_run_and_s_stops_it(
    demo_server: RunningServer, browser: Callable[[str], Page], serve: Callable[..., str]
) -> None:
    directory = tempfile.mkdtemp(prefix="deli-", dir="/tmp")  # socket paths are short
    socket_path = Path(directory) / "run.sock"
    run = subprocess.Popen(
        [
            sys.executable, "-m", "deli_tui", "run", f"{demo_server.url}/delay/5",
            "--users", "4", "--duration", "40s", "--listen", str(socket_path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        key = Path(f"{socket_path}.key")
        deadline = time.monotonic() + SAFETY_S
        while not (socket_path.exists() and key.exists() and key.stat().st_size):
            assert run.poll() is None, run.communicate()
            assert time.monotonic() < deadline, "the run never started listening"
            time.sleep(0.05)
        page = browser(serve("--attach", str(socket_path)))

        def live(text: str) -> bool:
            return any(number(r) > 0 for r in RATE.findall(text)) and bool(COUNT.findall(text))

        first = number(COUNT.findall(page.wait_for(live, "a live req/s figure"))[-1])
        later = page.wait_for(
            lambda t: number(COUNT.findall(t)[-1]) > first, "the request count going up"
        )
        assert "p99" in later and "Percentiles" in later
        page.press("s")
        page.wait_for(lambda t: "[ended: stopped]" in t, "the end of the stopped run")
        out, err = run.communicate(timeout=SAFETY_S)
        assert run.returncode == 1, err  # stopped before its end: not a pass
        assert "STOPPED" in out, out
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
        shutil.rmtree(directory, ignore_errors=True)
