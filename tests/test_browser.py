"""End to end in headless Chromium: the page served by waitress, over a real gRPC model server on the tiny model."""

from __future__ import annotations

import json
import os
import queue
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import opencc
import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select, WebDriverWait

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # Chromium, and a server subprocess per test

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path(os.environ.get("POET_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("POET_CHROMEDRIVER", "/usr/bin/chromedriver"))
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,900",
]
START_TIMEOUT_S = 180  # the model server loads and compiles the tiny model first
POEM_TIMEOUT_S = 120  # generous: CI machines are small and may be busy
HEADS = "春夏秋冬"
SCREENSHOT = ROOT / "docs" / "screenshot.png"
PHONE_SHOTS = ROOT / "docs" / "phone.png", ROOT / "docs" / "phone-vertical.png"
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}


class Server:
    """A server subprocess whose output is read by a thread, so it never blocks on a full pipe."""

    def __init__(self, command: list[str], env: dict[str, str]):
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        self.output: list[str] = []
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        with self.process.stdout:  # closed at the end of the output, which a warning would otherwise report
            for line in self.process.stdout:
                self.output.append(line)
                self.lines.put(line)

    def wait_for(self, pattern: str, timeout: float = START_TIMEOUT_S) -> re.Match:
        """The first output line matching pattern; fails with the output if the server dies or is too slow."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                match = re.search(pattern, self.lines.get(timeout=0.5))
            except queue.Empty:
                match = None
            if match:
                return match
            if self.process.poll() is not None and self.lines.empty():
                break
        pytest.fail(f"no line matching {pattern!r} from {self.process.args}:\n{''.join(self.output)[-3000:]}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_web(model_address: str) -> tuple[Server, str]:
    """`python -m server.wsgi` on a free loopback port, talking to model_address; (server, page URL)."""
    server = Server(
        [sys.executable, "-m", "server.wsgi", "--host", "127.0.0.1", "--port", "0"],
        {**os.environ, "POET_SERVER": model_address},
    )
    return server, server.wait_for(r"web app on (http://\S+)")[1] + "/"


@pytest.fixture(scope="module")
def model_dir(request: pytest.FixtureRequest) -> Path:
    """The tiny model, or POET_BROWSER_MODEL (e.g. model/weights, to screenshot real poems for the README)."""
    chosen = os.environ.get("POET_BROWSER_MODEL")
    return Path(chosen).resolve() if chosen else request.getfixturevalue("tiny_model_dir")


def start_model(model_dir: Path, port: int = 0) -> tuple[Server, str]:
    """`python -m server.grpc_server` on a loopback port (0: a free one); (server, host:port)."""
    server = Server(
        [
            sys.executable,
            "-m",
            "server.grpc_server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--model",
            str(model_dir),
            "--max-batch",
            "8",
        ],
        {**os.environ, "POET_METRICS_PORT": "0"},  # no /metrics: a test may run two model servers at once
    )
    try:
        match = server.wait_for(r"listening on (\S+):(\d+)")
    except BaseException:
        server.stop()
        raise
    return server, f"{match[1]}:{match[2]}"


@pytest.fixture(scope="module")
def model_address(model_dir: Path) -> Iterator[str]:
    """host:port of a real model server."""
    server, address = start_model(model_dir)
    try:
        yield address
    finally:
        server.stop()


@pytest.fixture(scope="module")
def page_url(model_address: str) -> Iterator[str]:
    """The page, talking to the real model server."""
    server, url = start_web(model_address)
    try:
        yield url
    finally:
        server.stop()


def free_port() -> int:
    """A loopback port where nothing listens now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    """Headless Chromium with a fresh profile; missing Chromium is a failure, not a skip."""
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        pytest.fail(
            f"Chromium and chromedriver are needed at {CHROMIUM} and {CHROMEDRIVER}: "
            "apt-get install -y chromium chromium-driver (or set POET_CHROMIUM / POET_CHROMEDRIVER)"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    with tempfile.TemporaryDirectory() as profile:
        options.add_argument(f"--user-data-dir={profile}")
        driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
        try:
            yield driver
        finally:
            driver.quit()


def wait(driver: WebDriver, condition, timeout: float = 10):
    return WebDriverWait(driver, timeout, ignored_exceptions=[StaleElementReferenceException]).until(condition)


def choose(driver: WebDriver, input_id: str) -> None:
    """Click the visible label of a radio button or checkbox, as a person would (the modes and forms are
    there once /api/info has answered)."""
    selector = f"label[for={input_id}], label:has(#{input_id})"
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, selector), 30)[0].click()


def type_text(driver: WebDriver, text: str) -> None:
    box = driver.find_element(By.ID, "text")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.BACKSPACE)
    if text:
        box.send_keys(text)


def message_says(driver: WebDriver, words: str) -> bool:
    return (
        words in driver.find_element(By.ID, "message").text and not driver.find_element(By.ID, "generate").is_enabled()
    )


def poem_lines(driver: WebDriver) -> list[str]:
    """The finished poem's lines, read in one script so a re-render cannot interleave."""
    return driver.execute_script(
        "return [...document.querySelectorAll('.poem.done .line')]"
        ".map((line) => [...line.querySelectorAll('.glyph')].map((g) => g.textContent).join(''))"
    )


def wait_for_poem(driver: WebDriver) -> list[str]:
    """Wait until the poem is finished, then its lines as text."""
    wait(
        driver,
        lambda d: d.find_elements(By.CSS_SELECTOR, ".poem.done") or d.find_element(By.ID, "error").is_displayed(),
        POEM_TIMEOUT_S,
    )
    assert not driver.find_element(By.ID, "error").is_displayed(), driver.find_element(By.ID, "error-text").text
    return poem_lines(driver)


def set_text(driver: WebDriver, text: str) -> None:
    """Put text in the box as if typed (ChromeDriver cannot type characters beyond the BMP, such as 𠀀)."""
    driver.execute_script(
        "const box = document.getElementById('text'); box.value = arguments[0];box.dispatchEvent(new Event('input'))",
        text,
    )


def history_texts(driver: WebDriver) -> list[str]:
    return [item.text for item in driver.find_elements(By.CSS_SELECTOR, "#history .history-item")]


def write_poem(driver: WebDriver) -> list[str]:
    wait(driver, lambda d: d.find_element(By.ID, "generate").is_enabled())
    driver.find_element(By.ID, "generate").click()
    return wait_for_poem(driver)


def downloaded(folder: Path, suffix: str) -> Path:
    """The finished download in folder whose name ends with suffix."""

    def done(_: WebDriver) -> list[Path]:
        return [path for path in folder.iterdir() if path.name.endswith(suffix)]

    return WebDriverWait(None, 30).until(done)[0]


@contextmanager
def phone(driver: WebDriver) -> Iterator[None]:
    """The page as a 390 × 844 phone with a touch screen shows it."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 5})
    try:
        yield
    finally:
        driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": False})
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def edit_line(driver: WebDriver, index: int, text: str) -> None:
    """Open line `index` of the poem, type text over it and submit, as a person would."""
    driver.find_elements(By.CSS_SELECTOR, ".poem .line")[index].click()
    editor = driver.find_element(By.CSS_SELECTOR, ".line-edit .line-input")
    editor.send_keys(Keys.CONTROL, "a")
    editor.send_keys(text)
    editor.send_keys(Keys.ENTER)
    wait(driver, lambda d: not d.find_elements(By.CSS_SELECTOR, ".line-edit"))


def test_bad_input_is_explained_and_blocks_the_button(browser: WebDriver, page_url: str) -> None:
    browser.get(page_url)
    choose(browser, "mode-acrostic")
    type_text(browser, "abc")
    wait(browser, lambda d: message_says(d, "只能是汉字"))
    type_text(browser, "春夏秋冬梅兰竹菊松")
    wait(browser, lambda d: message_says(d, "最多 8 个"))
    type_text(browser, "春夏秋冬梅")
    choose(browser, "form-五绝")
    wait(browser, lambda d: message_says(d, "五绝只有 4 句"))
    choose(browser, "mode-continue")
    type_text(browser, "白日依山尽，黄河入海流，欲穷千里目，更上一层楼，春眠不觉晓，")
    wait(browser, lambda d: message_says(d, "开头有 5 句"))
    type_text(browser, "白日依山尽，黄河入海")
    wait(
        browser, lambda d: d.find_element(By.ID, "generate").is_enabled() and not d.find_element(By.ID, "message").text
    )
    type_text(browser, "白日依山尽黄河入海流")  # whole lines typed without marks, read as the engine reads them
    wait(
        browser,
        lambda d: "已有 2 句" in d.find_element(By.ID, "hint").text and d.find_element(By.ID, "generate").is_enabled(),
    )


def test_acrostic_poem_with_tones_and_rhymes(browser: WebDriver, page_url: str, tmp_path: Path) -> None:
    browser.get(page_url)
    wait(browser, lambda d: d.find_element(By.ID, "health").get_attribute("data-state") == "ok", 30)
    choose(browser, "mode-acrostic")
    choose(browser, "form-七绝")
    type_text(browser, HEADS)
    wait(browser, lambda d: d.find_element(By.ID, "generate").is_enabled())
    browser.find_element(By.ID, "generate").click()
    lines = wait_for_poem(browser)
    assert len(lines) == 4 and all(len(line) == 7 for line in lines), lines
    assert [line[0] for line in lines] == list(HEADS)
    chars = browser.find_elements(By.CSS_SELECTOR, ".poem .char")
    marks = browser.find_elements(By.CSS_SELECTOR, ".poem .tone-mark")
    assert len(chars) == len(marks) == 28 and all(mark.is_displayed() for mark in marks)
    tones = [char.get_attribute("class") for char in chars]
    assert any("tone-ping" in tone for tone in tones) and any("tone-ze" in tone for tone in tones)
    assert browser.find_elements(By.CSS_SELECTOR, ".poem .char.rhyme"), "no rhyme character is marked"
    assert browser.find_elements(By.CSS_SELECTOR, "#history .history-item")
    # The README's picture is retaken on the real model (POET_BROWSER_MODEL=model/weights); other runs keep it.
    shot = SCREENSHOT if os.environ.get("POET_BROWSER_MODEL") else tmp_path / SCREENSHOT.name
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    choose(browser, "traditional")
    expected = opencc.OpenCC("s2t").convert("\n".join(lines)).split("\n")
    wait(browser, lambda d: poem_lines(d) == expected)


def test_edit_a_line_and_rewrite_the_rest(browser: WebDriver, page_url: str) -> None:
    browser.get(page_url)
    browser.execute_script("localStorage.clear()")
    browser.refresh()
    choose(browser, "mode-acrostic")
    type_text(browser, HEADS)
    wait(browser, lambda d: d.find_element(By.ID, "generate").is_enabled())
    browser.find_element(By.ID, "generate").click()
    first = wait_for_poem(browser)
    edit_line(browser, 1, "夏木阴阴正可人")
    rewritten = wait_for_poem(browser)
    assert rewritten[:2] == [first[0], "夏木阴阴正可人"]
    assert len(rewritten) == 4 and all(len(line) == 7 for line in rewritten), rewritten
    assert [line[0] for line in rewritten] == list(HEADS), rewritten  # the later heads are kept
    # The last line: the whole poem goes back as the opening and comes back judged, nothing written
    # (it once took the model server's decode thread down).
    edit_line(browser, 3, "冬雪纷纷满故林")
    assert wait_for_poem(browser) == rewritten[:3] + ["冬雪纷纷满故林"]
    assert browser.find_element(By.CSS_SELECTOR, ".poem.done .score").text == "无新句"
    entries = history_texts(browser)
    # 再写一首 writes afresh from the last edit that wrote something, not the same whole poem again.
    browser.find_element(By.ID, "regenerate").click()
    wait(
        browser, lambda d: d.find_element(By.CSS_SELECTOR, ".poem.done .score").text.startswith("得分"), POEM_TIMEOUT_S
    )
    again = poem_lines(browser)
    assert again[:2] == rewritten[:2] and [line[0] for line in again] == list(HEADS), again
    texts = history_texts(browser)
    assert len(texts) == len(entries) + 1, texts
    kept = browser.execute_script(
        "return JSON.parse(localStorage.getItem('bert-poet.history.v1')).map((entry) => entry.poem.text)"
    )
    assert len(set(kept)) == len(kept), kept  # no poem kept twice
    assert f"藏头「{HEADS}」 · 七绝" in texts[-1] and "改写「夏木阴阴正可人」 · 七绝" in texts[0], texts
    browser.find_element(By.ID, "generate").click()  # the model server still writes
    wait(
        browser, lambda d: d.find_element(By.CSS_SELECTOR, ".poem.done .score").text.startswith("得分"), POEM_TIMEOUT_S
    )


def test_a_page_served_before_the_model_server_waits_for_it(browser: WebDriver, model_dir: Path) -> None:
    port = free_port()
    web, url = start_web(f"127.0.0.1:{port}")
    model = None
    try:
        browser.get(url)
        wait(browser, lambda d: d.find_element(By.ID, "error").is_displayed(), 30)
        assert "模型服务" in browser.find_element(By.ID, "error-text").text
        assert browser.find_element(By.ID, "health").get_attribute("data-state") == "down"
        # Without the contract there is no mode to choose and nothing to send.
        assert not browser.find_elements(By.CSS_SELECTOR, "input[name=mode]")
        assert not browser.find_element(By.ID, "generate").is_enabled()
        assert "正在向模型服务读取" in browser.find_element(By.ID, "hint").text
        browser.find_element(By.ID, "retry").click()
        wait(browser, lambda d: d.find_element(By.ID, "error").is_displayed(), 30)
        model, _ = start_model(model_dir, port)
        browser.find_element(By.ID, "retry").click()
        wait(browser, lambda d: d.find_element(By.ID, "generate").is_enabled(), 30)  # random mode needs no input
        assert browser.find_element(By.ID, "mode-random").is_selected()
        assert not browser.find_element(By.ID, "error").is_displayed()
        assert browser.find_element(By.ID, "health").get_attribute("data-state") == "ok"
    finally:
        web.stop()
        if model:
            model.stop()
    browser.get_log("browser")  # the 503s logged here are expected


# Run before the page's own scripts: /api/info answers with other limits and defaults than the engine's, one
# mode fewer, a 七绝 of six lines, and 自动 writing a 七律 for up to three heads, so that a page that wrote any
# of them into itself would show the engine's instead.
OTHER_CONTRACT = """
const fetchFromServer = window.fetch;
window.fetch = async (url, options) => {
  const answer = await fetchFromServer(url, options);
  if (url !== "/api/info" || !answer.ok) return answer;
  const info = await answer.json();
  const field = (name) => info.fields.find((described) => described.name === name);
  info.max_text = 12;
  Object.assign(field("n"), { maximum: 3, default: 2 });
  Object.assign(field("temperature"), { maximum: 1.5, default: 1.2 });
  Object.assign(field("rhyme_tone"), { default: "仄" });
  Object.assign(field("meter"), { default: false });
  const mode = field("mode");
  Object.assign(mode, { default: "acrostic", choices: mode.choices.slice(0, 3), labels: mode.labels.slice(0, 3) });
  info.forms = info.forms.slice(1);
  const quatrain = info.form_shapes.find((shape) => shape.name === "七绝");
  Object.assign(quatrain, { line_lengths: Array(6).fill(7), marks: Array(3).fill(["，", "。"]).flat(), stanzas: [6] });
  info.auto_forms = info.auto_forms.filter((row) => row.mode !== "acrostic" || row.lines <= 3)
    .map((row) => (row.mode === "acrostic" ? { ...row, form: "七律" } : row));
  window.servedInfo = info;
  return new Response(JSON.stringify(info), { headers: { "Content-Type": "application/json" } });
};
"""
COMPOSER = """
const $ = (selector) => document.querySelector(selector);
const radios = (name) => [...document.querySelectorAll(`input[name=${name}]`)];
return {
  modes: radios('mode').map((input) => [input.value, input.labels[0].textContent]),
  mode: radios('mode').find((input) => input.checked).value,
  forms: radios('form').map((input) => input.value),
  maxText: $('#text').maxLength,
  n: [$('#n').min, $('#n').max, $('#n').value].map(Number),
  temperature: [Number($('#temperature').max), Number($('#temperature').value)],
  tones: [...$('#rhyme_tone').options].map((option) => option.value),
  tone: $('#rhyme_tone').value,
  switches: Object.fromEntries(['rhyme', 'meter', 'strict_meter', 'no_repeat']
    .map((name) => [name, document.getElementById(name).checked])),
};"""


def test_the_composer_is_built_from_api_info(browser: WebDriver, page_url: str) -> None:
    script = browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": OTHER_CONTRACT})
    try:
        browser.get(page_url)
        wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "input[name=mode]"), 30)
        info, shown = browser.execute_script("return window.servedInfo"), browser.execute_script(COMPOSER)
    finally:
        browser.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": script["identifier"]})
    fields = {field["name"]: field for field in info["fields"]}
    assert shown["modes"] == [list(pair) for pair in zip(fields["mode"]["choices"], fields["mode"]["labels"])]
    assert len(shown["modes"]) == 3 and shown["mode"] == "acrostic" and shown["forms"] == ["", *info["forms"]]
    assert shown["maxText"] == 12 and shown["n"] == [1, 3, 2] and shown["temperature"] == [1.5, 1.2]
    assert shown["tones"] == fields["rhyme_tone"]["choices"] and shown["tone"] == "仄"
    assert shown["switches"] == {name: fields[name]["default"] for name in shown["switches"]}
    assert not shown["switches"]["meter"] and shown["switches"]["rhyme"]
    # The forms' shapes and the form 自动 writes are the served ones too (the engine's: 七绝 of 4 lines, up to 8 heads).
    type_text(browser, "春夏")
    wait(browser, lambda d: "2 个藏头字 · 七律 8 句" in d.find_element(By.ID, "hint").text)
    assert (
        browser.find_element(By.CSS_SELECTOR, "label[for=form-auto]").get_attribute("title")
        == "自动：1–3 个藏头字写七律"
    )
    type_text(browser, "春夏秋冬")
    wait(browser, lambda d: message_says(d, "藏头字最多 3 个"))
    choose(browser, "form-七绝")
    type_text(browser, "春夏秋冬梅兰")
    wait(
        browser,
        lambda d: (
            "6 个藏头字 · 七绝 6 句" in d.find_element(By.ID, "hint").text
            and d.find_element(By.ID, "generate").is_enabled()
        ),
    )
    type_text(browser, "春夏秋冬梅兰竹")
    wait(browser, lambda d: message_says(d, "七绝只有 6 句可以藏头"))


def test_page_logs_no_script_errors(browser: WebDriver, page_url: str) -> None:
    browser.get(page_url)
    wait(browser, lambda d: d.find_element(By.ID, "health").get_attribute("data-state") == "ok", 30)
    problems = [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert not problems, problems


def test_the_continue_example_works_and_no_line_is_padded(browser: WebDriver, page_url: str) -> None:
    browser.get(page_url)
    wait(browser, lambda d: d.find_element(By.ID, "form-auto").is_selected(), 30)
    wait(browser, lambda d: "自动：随机写七绝" in d.find_element(By.ID, "hint").text)
    choose(browser, "mode-continue")
    type_text(browser, browser.find_element(By.ID, "text").get_attribute("placeholder"))  # 白日依山尽，黄河入海流。
    wait(
        browser,
        lambda d: "五绝" in d.find_element(By.ID, "hint").text and d.find_element(By.ID, "generate").is_enabled(),
    )
    choose(browser, "form-七绝")
    type_text(browser, "白日依山尽\n")  # Enter ends the line: five characters, never padded to seven
    wait(browser, lambda d: message_says(d, "第 1 句有 5 字，七绝每句 7 字"))
    type_text(browser, "白日依山")
    wait(browser, lambda d: "由模型补足 3 字" in d.find_element(By.ID, "hint").text)
    choose(browser, "mode-acrostic")
    set_text(browser, "春𠀀")  # CJK Extension B: a Han character the model cannot write
    wait(browser, lambda d: message_says(d, "模型不会写「𠀀」"))


def test_streaming_shows_each_character_with_the_heads_in_place(browser: WebDriver, page_url: str) -> None:
    browser.get(page_url)
    choose(browser, "mode-acrostic")
    choose(browser, "form-七绝")
    type_text(browser, HEADS)
    wait(browser, lambda d: d.find_element(By.ID, "generate").is_enabled())
    # Every render of a poem's grid is recorded as the number of cells filled, however the events are batched.
    heads = browser.execute_script("""
        window.filled = [];
        new MutationObserver((records) => records.forEach((record) => {
          if (!record.target.classList?.contains("poem-body") || !record.addedNodes.length) return;
          window.filled.push([...record.addedNodes].reduce(
            (n, line) => n + line.querySelectorAll(".char:not(.empty)").length, 0));
        })).observe(document.getElementById("poems"), { childList: true, subtree: true });
        document.getElementById("generate").click();
        return [...document.querySelectorAll(".poem.streaming .line")]
          .map((line) => line.querySelector(".glyph").textContent);
    """)
    assert heads == list(HEADS)  # in the empty grid before the first character comes
    wait_for_poem(browser)
    filled = browser.execute_script("return window.filled")
    assert sum(b - a == 1 for a, b in zip(filled, filled[1:])) >= 12, filled  # one character at a time


def test_phone_layout(browser: WebDriver, page_url: str, tmp_path: Path) -> None:
    shots = (
        PHONE_SHOTS
        if os.environ.get("POET_BROWSER_MODEL")
        else (tmp_path / "phone.png", tmp_path / "phone-vertical.png")
    )
    with phone(browser):
        browser.get(page_url)
        assert not browser.find_element(By.CSS_SELECTOR, ".shortcut").is_displayed()  # no Ctrl + Enter on a phone
        choose(browser, "form-七律")
        assert len(write_poem(browser)) == 8
        in_view = (
            "const box = document.querySelector('.poem.done').getBoundingClientRect(); "
            "return box.top >= -1 && box.bottom <= innerHeight + 1"
        )
        wait(browser, lambda d: d.execute_script(in_view))  # scrolled to the poem, below the form
        assert browser.save_screenshot(str(shots[0]))
        choose(browser, "vertical")
        widths = browser.execute_script("""
            const boxes = [...document.querySelectorAll('.poem .char')].map((char) => char.getBoundingClientRect());
            return [document.documentElement.scrollWidth, innerWidth, Math.min(...boxes.map((box) => box.left)),
                    Math.max(...boxes.map((box) => box.right))];""")
        page, screen, left, right = widths
        assert page <= screen and left >= 0 and right <= screen, widths  # all eight columns on the screen
        browser.execute_script("document.querySelector('.poem').scrollIntoView({block: 'center'})")
        assert browser.save_screenshot(str(shots[1]))


def test_words_are_explained(browser: WebDriver, page_url: str) -> None:
    browser.get(page_url)
    write_poem(browser)  # random: there is no user's text to keep
    assert "概率" in browser.find_element(By.CSS_SELECTOR, ".poem.done .score").get_attribute("title")
    checks = {
        item.text[2:]: item.get_attribute("title")
        for item in browser.find_elements(By.CSS_SELECTOR, ".poem.done .checks li")
    }
    assert "存原句" not in checks and "粘对" in checks and all(checks.values()), checks
    browser.find_element(By.CSS_SELECTOR, "#glossary summary").click()
    glossary = browser.find_element(By.ID, "glossary").text
    assert all(word in glossary for word in ("得分", "严格格律", "非抄录", "○ ● ◐")), glossary
    # A poem's faults by line, the user's own marked, described as /api/info's rules describe them.
    choose(browser, "mode-continue")
    type_text(browser, "床前明月光，疑是地上霜。举头望明月，低头思故乡。")  # 明 and 月 again in line 3
    write_poem(browser)
    faults = [
        (item.text, item.get_attribute("title"))
        for item in browser.find_elements(By.CSS_SELECTOR, ".poem.done .faults li")
    ]
    rules = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch('/api/info').then((answer) => answer.json()).then((info) => done(info.rules))"
    )
    assert ("第3句重字（你的原句）", rules["重字"]["zh"]) in faults, faults


def test_model_server_going_down_keeps_the_poem_and_says_so(browser: WebDriver, model_dir: Path) -> None:
    model, address = start_model(model_dir)
    web, url = start_web(address)
    try:
        browser.get(url)
        wait(browser, lambda d: d.find_element(By.ID, "health").get_attribute("data-state") == "ok", 30)
        before = write_poem(browser)
        model.stop()
        browser.find_element(By.ID, "generate").click()
        wait(browser, lambda d: d.find_element(By.ID, "error").is_displayed(), 30)
        wait(browser, lambda d: d.find_element(By.ID, "health").get_attribute("data-state") == "down", 30)
        assert "模型就绪" not in browser.find_element(By.ID, "health").text
        assert poem_lines(browser) == before  # the last poem stays on screen
    finally:
        web.stop()
        model.stop()
    browser.get_log("browser")  # the 503s logged here are expected


def test_share_a_link_an_image_the_history_and_pinyin(browser: WebDriver, page_url: str, tmp_path: Path) -> None:
    from server.pinyin import reader

    browser.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    browser.get(page_url)
    choose(browser, "mode-acrostic")
    type_text(browser, HEADS)
    browser.find_element(By.CSS_SELECTOR, "#advanced summary").click()
    Select(browser.find_element(By.ID, "rhyme_tone")).select_by_value("仄")  # 仄韵
    lines = write_poem(browser)
    group = browser.find_element(By.CSS_SELECTOR, ".poem.done .rhyme-group").text
    assert group[0] in "上去入" and group[1] != "平", group  # an oblique group (上一董, 去一送, 入一屋), not 上平一东
    browser.find_element(By.CSS_SELECTOR, ".poem.done .share").click()
    wait(browser, lambda d: "seed=" in d.current_url)
    link = browser.current_url
    assert "mode=acrostic" in link and "rhyme_tone=%E4%BB%84" in link  # 仄
    browser.get(page_url)
    browser.get(link)
    assert wait_for_poem(browser) == lines  # the link writes the same poem again
    browser.find_element(By.CSS_SELECTOR, ".poem.done .image").click()
    image = downloaded(tmp_path, ".png").read_bytes()
    assert image[:8] == b"\x89PNG\r\n\x1a\n" and len(image) > 5000
    browser.find_element(By.ID, "export-history").click()
    saved = json.loads(downloaded(tmp_path, ".json").read_text(encoding="utf-8"))
    assert saved[0]["poem"]["lines"] == lines and saved[0]["text"] == HEADS and saved[0]["mode"] == "acrostic"
    choose(browser, "show-pinyin")
    read = (
        "return [...document.querySelectorAll('.poem.done .line')]"
        ".map((line) => [...line.querySelectorAll('.pinyin')].map((p) => p.textContent))"
    )
    wait(browser, lambda d: d.execute_script(read) == [reader()(line) for line in lines])


def pick_tune(driver: WebDriver, typed: str) -> list[str]:
    """Type into the tune picker as a person would; the tunes it then offers, by name."""
    box = driver.find_element(By.ID, "tune")
    box.click()
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(typed)
    return wait(
        driver,
        lambda d: [
            option.get_attribute("data-name") for option in d.find_elements(By.CSS_SELECTOR, "#tune-list .tune-option")
        ],
    )


def copied_text(driver: WebDriver, page_url: str) -> str:
    """Press the poem's 复制 and read back what went on the clipboard."""
    allowed = ["clipboardReadWrite", "clipboardSanitizedWrite"]
    driver.execute_cdp_cmd("Browser.grantPermissions", {"permissions": allowed, "origin": page_url.rstrip("/")})
    driver.find_element(By.CSS_SELECTOR, ".poem.done .copy").click()
    wait(driver, lambda d: d.find_element(By.ID, "notice").text == "已复制")
    return driver.execute_async_script("navigator.clipboard.readText().then(arguments[arguments.length - 1])")


def stanza_glyphs(driver: WebDriver) -> list[list[list[tuple[float, float]]]]:
    """Where each character is drawn: [stanza][line][character] -> (x, y) of its box's corner."""
    return driver.execute_script("""
        const corner = (glyph) => { const box = glyph.getBoundingClientRect(); return [box.x, box.y]; };
        const line = (node) => [...node.querySelectorAll('.glyph')].map(corner);
        const stanza = (node) => [...node.querySelectorAll('.line')].map(line);
        return [...document.querySelectorAll('.poem.done .stanza')].map(stanza);""")


def test_tune_picker_checks_an_opening_by_the_tunes_lines(browser: WebDriver, page_url: str) -> None:
    browser.get(page_url)
    choose(browser, "mode-continue")
    assert pick_tune(browser, "如梦") == ["如梦令"]
    browser.find_element(By.ID, "tune").send_keys(Keys.ENTER)
    assert browser.find_element(By.ID, "tune-info").text == "单调 · 33 字 · 6-6-5-6-2-2-6"
    assert not [box for box in browser.find_elements(By.CSS_SELECTOR, "input[name=form]") if box.is_selected()]
    type_text(browser, "常记溪亭日暮，沉醉不知")  # a line of 6, as the tune has it: not a 诗's 5 or 7
    wait(
        browser,
        lambda d: (
            "第 2 句由模型补足 2 字" in d.find_element(By.ID, "hint").text
            and d.find_element(By.ID, "generate").is_enabled()
        ),
    )
    type_text(browser, "常记溪亭日暮，沉醉不知归路，兴尽晚回舟，")
    wait(browser, lambda d: "已有 3 句 · 如梦令，续写其余 4 句" in d.find_element(By.ID, "hint").text)
    type_text(browser, "常记溪亭日暮春，")
    wait(browser, lambda d: message_says(d, "第 1 句有 7 字，如梦令第 1 句 6 字"))
    choose(browser, "mode-acrostic")  # 如梦令's 6th line repeats the 5th (叠句): it takes no head of its own
    type_text(browser, "一二三四五六七")
    wait(browser, lambda d: message_says(d, "如梦令只有 6 句可以藏头，放不下 7 个藏头字"))
    choose(browser, "mode-continue")
    type_text(browser, "常记溪亭日暮春，")
    choose(browser, "form-七绝")  # a 诗体 again: the tune is let go, and the line of 7 is a 七绝's
    assert browser.find_element(By.ID, "tune").get_attribute("value") == ""
    wait(browser, lambda d: "七绝，续写其余 3 句" in d.find_element(By.ID, "hint").text)


def test_ci_in_its_stanzas_copied_edited_linked_and_vertical(browser: WebDriver, page_url: str, tmp_path: Path) -> None:
    """浣溪沙 found by typing 浣, written in its two 阕 with tone marks and the tune's own marks."""
    browser.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    browser.get(page_url)
    assert pick_tune(browser, "浣") == ["浣溪沙"]
    option = browser.find_element(By.CSS_SELECTOR, "#tune-list .tune-option")
    assert option.text.split("\n") == ["浣溪沙", "双调 · 42 字", "7-7-7 / 7-7-7"]
    option.click()
    lines = write_poem(browser)
    assert len(lines) == 6 and all(len(line) == 7 for line in lines), lines
    stanzas = browser.find_elements(By.CSS_SELECTOR, ".poem.done .stanza")
    assert [len(stanza.find_elements(By.CSS_SELECTOR, ".line")) for stanza in stanzas] == [3, 3]
    marks = browser.find_elements(By.CSS_SELECTOR, ".poem.done .tone-mark")
    assert len(marks) == 42 and all(mark.is_displayed() for mark in marks)
    upper, lower = (stanza.rect for stanza in stanzas)
    assert lower["y"] >= upper["y"] + upper["height"] + 8, (upper, lower)  # a visible break between 上阕 and 下阕
    saved = browser.execute_script("return JSON.parse(localStorage.getItem('bert-poet.history.v1'))[0]")
    ends = [mark.text for mark in browser.find_elements(By.CSS_SELECTOR, ".poem.done .punct")]
    assert "".join(map(str.__add__, lines, ends)) == saved["poem"]["text"]  # the tune's 。。。，。。, not ，。 in turn
    assert history_texts(browser)[0].startswith("随机 · 浣溪沙")
    upper_text, lower_text = ("".join(map(str.__add__, lines[k : k + 3], ends[k : k + 3])) for k in (0, 3))
    assert copied_text(browser, page_url) == f"浣溪沙\n{upper_text}\n{lower_text}"  # titled, one 阕 a paragraph
    edit_line(browser, 3, "无可奈何花落去")  # the first line of 下阕: 上阕 stays, the rest is written in the tune
    edited = wait_for_poem(browser)
    assert edited[:4] == [*lines[:3], "无可奈何花落去"] and [len(line) for line in edited] == [7] * 6, edited
    browser.find_element(By.CSS_SELECTOR, ".poem.done .share").click()
    wait(browser, lambda d: "seed=" in d.current_url)
    link = browser.current_url
    browser.get(page_url)
    browser.get(link)  # the tune comes from the link, and the same 词 is written once the tunes are read
    assert wait_for_poem(browser) == edited and browser.find_element(By.ID, "tune").get_attribute("value") == "浣溪沙"
    choose(browser, "vertical")
    columns = stanza_glyphs(browser)
    for column in (column for stanza in columns for column in stanza):
        assert len({round(x) for x, _ in column}) == 1, column  # a line is a column,
        assert [y for _, y in column] == sorted(y for _, y in column), column  # read downwards
    xs = [[column[0][0] for column in stanza] for stanza in columns]  # each stanza's columns, right to left
    step = max(a - b for stanza in xs for a, b in zip(stanza, stanza[1:]))
    assert xs[0][-1] - xs[1][0] > step + 10, xs  # 下阕 left of 上阕, further than a column from the next
    browser.find_element(By.CSS_SELECTOR, ".poem.done .image").click()
    image = downloaded(tmp_path, ".png").read_bytes()
    width, height = int.from_bytes(image[16:20], "big"), int.from_bytes(image[20:24], "big")
    assert image[:8] == b"\x89PNG\r\n\x1a\n" and width > height, (width, height)  # 6 columns and a break, 7 tall
