"""Debian's chromium, driven by Selenium and chromedriver, with the network off.

Every request a page makes is read from the DevTools ``Network`` events (chromedriver's
performance log), console messages from the browser log. The proxy is a closed port on
loopback and loopback itself goes through it, so nothing a page asks for can arrive.
"""

from __future__ import annotations

import base64
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

INSTALL = "apt-get install -y chromium chromium-driver"
PHONE = (390, 844)
WIDE = (1280, 900)


@dataclass
class Loaded:
    """What one page load showed: its text, requests, console messages, layout."""

    url: str
    text: str
    requests: list[str]
    console_errors: list[str]
    scroll_width: int
    viewport_width: int
    """The width asked for (a phone's layout viewport would grow to fit what overflows)."""
    scripts: int
    charts: list[tuple[float, float]]
    """(width, height) in CSS pixels of every chart drawn."""


def start() -> Any:
    """A headless chromium; the test fails, saying what to install, when one is missing."""
    chromium = shutil.which("chromium")
    driver = shutil.which("chromedriver")
    if chromium is None or driver is None:
        pytest.fail(f"the browser test needs Debian's chromium and chromedriver: {INSTALL}")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail("the browser test needs selenium: python3 -m pip install -e '.[test]'")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in (
        "--headless=new",
        "--no-sandbox",  # chromium refuses to run as root otherwise
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--proxy-server=127.0.0.1:9",
        "--proxy-bypass-list=<-loopback>",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--no-default-browser-check",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return webdriver.Chrome(options=options, service=Service(executable_path=driver))


def load(browser: Any, page: Path, size: tuple[int, int], shot: Path | None = None) -> Loaded:
    """Open ``page`` at a viewport of ``size`` CSS pixels; a full-page PNG to ``shot``."""
    width, height = size
    browser.get_log("performance")  # drop what earlier pages logged
    browser.get_log("browser")
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
    )
    url = page.resolve().as_uri()
    browser.get(url)
    text = browser.execute_script("return document.body.innerText")
    layout = browser.execute_script(
        "return [document.documentElement.scrollWidth, 0,"
        " document.scripts.length,"
        " [...document.querySelectorAll('figure svg')].map(s => {"
        "   const r = s.getBoundingClientRect(); return [r.width, r.height]; })]"
    )
    if shot is not None:
        metrics = browser.execute_cdp_cmd("Page.getLayoutMetrics", {})
        content = metrics["cssContentSize"]
        png = browser.execute_cdp_cmd(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {
                    "x": 0,
                    "y": 0,
                    "width": width,
                    "height": min(content["height"], 16000),
                    "scale": 1,
                },
            },
        )
        shot.write_bytes(base64.b64decode(png["data"]))
    requests = []
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            requests.append(message["params"]["request"]["url"])
    errors = [
        e["message"] for e in browser.get_log("browser") if e["level"] in ("SEVERE", "WARNING")
    ]
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    return Loaded(
        url=url,
        text=text,
        requests=requests,
        console_errors=errors,
        scroll_width=int(layout[0]),
        viewport_width=width,
        scripts=int(layout[2]),
        charts=[(float(w), float(h)) for w, h in layout[3]],
    )


def left_the_page(loaded: Loaded) -> list[str]:
    """Every request other than the page itself."""
    return [u for u in loaded.requests if u != loaded.url]
