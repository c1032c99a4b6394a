"""The explorer in a real browser: Debian's Chromium driven by playwright, against `convsim explore`.

One server for the module (started as the command a planner types); each
test opens its own page. Screenshots of the main views go to
``$CONVSIM_ARTIFACTS`` (default: the test's temporary folder).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("CONVSIM_CHROMIUM", "/usr/bin/chromium"))
if not CHROMIUM.is_file():
    pytest.skip(f"browser tests need Debian's Chromium at {CHROMIUM}: `apt-get install chromium` "
                "(or set CONVSIM_CHROMIUM to a Chromium binary); no browser is downloaded", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need playwright: pip install -e '.[test]'")

import sim  # noqa: E402
from sim.cli import main  # noqa: E402
from sim.explore.mix import Catalogue, Mix  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_MS = 240_000  # a fresh machine compiles the engine first (about a minute, longer on a busy one)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def artefacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(os.environ["CONVSIM_ARTIFACTS"]) if os.environ.get("CONVSIM_ARTIFACTS") \
        else tmp_path_factory.mktemp("explore-screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    port = _free_port()
    out = tmp_path_factory.mktemp("explore-out") / "runs"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    proc = subprocess.Popen([sys.executable, "-m", "sim.cli", "explore", "--port", str(port), "--no-browser",
                             "--out", str(out)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    url = f"http://localhost:{port}/"
    t0 = time.monotonic()
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()  # a GET would build a page
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() - t0 > 60:
                proc.kill()
                raise RuntimeError(f"convsim explore did not start: {proc.stderr.read().decode()[-2000:]}"
                                   if proc.stderr else "convsim explore did not start") from None
            time.sleep(0.1)
    yield url, out
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM))
        yield b
        b.close()


def _page(browser: Any, url: str, lang: str) -> Any:
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page.set_default_timeout(30_000)
    page.goto(f"{url}?lang={lang}")
    page.locator(".convsim-run button").wait_for()
    return page


def _set_number(page: Any, css: str, value: float) -> None:
    box = page.locator(f"{css} input")
    box.fill(str(value))
    box.press("Enter")


def _run_and_wait(page: Any) -> str:
    page.get_by_text("Results", exact=True).first.click()  # tabs are built when opened
    page.locator(".convsim-run button").click()
    cell = page.locator("td[data-kpi='industrialised']").first
    cell.wait_for(timeout=TIMEOUT_MS)
    page.get_by_text("Done:").or_(page.get_by_text("完成:")).first.wait_for(timeout=TIMEOUT_MS)
    return str(cell.get_attribute("data-mean"))


def test_page_loads_in_both_languages(server: tuple[str, Path], browser: Any, artefacts: Path) -> None:
    url, _ = server
    for lang, words in (("zh", ("组合措施", "(四)完善中介服务体系", "运行比较")),
                        ("en", ("Build a mix", "(4) Intermediary services", "Run the comparison"))):
        page = _page(browser, url, lang)
        for w in words:
            assert page.get_by_text(w).first.is_visible(), (lang, w)
        page.screenshot(path=artefacts / f"builder-{lang}.png")
        if lang == "en":  # switching the language keeps the mix
            page.locator(".convsim-lever-ip_protection input").check()
            page.get_by_text("中文", exact=True).first.click()
            page.get_by_text("组合措施", exact=True).first.wait_for()
            assert page.locator(".convsim-lever-ip_protection input").is_checked()
            assert page.get_by_text("加强知识产权和商业秘密保护").first.is_visible()
        page.close()


def test_run_shows_the_numbers_of_sim_compare_and_the_exported_file_reproduces_them(
        server: tuple[str, Path], browser: Any, artefacts: Path, tmp_path: Path) -> None:
    url, _ = server
    page = _page(browser, url, "en")
    page.locator(".convsim-lever-certified_brokers input").check()
    page.locator(".convsim-lever-promotion_events input").check()
    _set_number(page, ".convsim-reps", 200)
    page.screenshot(path=artefacts / "mix-built.png")
    shown = float(_run_and_wait(page))
    page.get_by_text("Yearly paths", exact=True).first.wait_for()  # the figures follow the numbers
    time.sleep(1)  # the figures' images load
    page.screenshot(path=artefacts / "results.png", full_page=True)

    catalogue = Catalogue(ROOT / "scenarios")
    mix = Mix(catalogue)
    mix.set("certified_brokers", on=True)
    mix.set("promotion_events", on=True)
    lib = sim.compare(catalogue.baseline, [mix.scenario("mix")], reps=200, seed=0, engine="fast")
    assert shown == float(lib.summary.loc["mix", "delta"])

    page.get_by_text("Assumptions", exact=True).first.click()
    page.locator(".convsim-effect-certified_brokers input").wait_for()  # each measure's effect, to question
    page.screenshot(path=artefacts / "assumptions.png", full_page=True)
    page.get_by_text("Downloads", exact=True).first.click()
    with page.expect_download() as dl:
        page.locator(".convsim-dl-mix button").click()
    path = tmp_path / "mix.toml"
    dl.value.save_as(path)
    assert main(["validate", str(path)]) == 0
    again = sim.compare(catalogue.baseline, [sim.load_scenario(path)], reps=200, seed=0, engine="fast")
    assert float(again.summary["delta"].iloc[0]) == shown
    with page.expect_download() as dl:
        page.locator(".convsim-dl-summary button").click()
    assert "delta" in Path(dl.value.path()).read_text(encoding="utf-8").splitlines()[0]
    with page.expect_download(timeout=120_000) as dl:
        page.locator(".convsim-dl-report button").click()
    with zipfile.ZipFile(dl.value.path()) as z:
        assert any(n.endswith(".html") for n in z.namelist()), z.namelist()
    page.close()


def test_a_changed_control_cancels_the_run(server: tuple[str, Path], browser: Any, artefacts: Path) -> None:
    url, _ = server
    page = _page(browser, url, "en")
    page.locator(".convsim-lever-ip_protection input").check()
    _set_number(page, ".convsim-reps", 100_000)
    page.locator(".convsim-run button").click()
    page.get_by_text("Running: stage").wait_for(timeout=TIMEOUT_MS)
    _set_number(page, ".convsim-seed", 7)
    page.get_by_text("Cancelled (a control changed).").wait_for(timeout=5_000)
    page.screenshot(path=artefacts / "cancelled.png")
    page.close()


def test_a_broken_upload_gives_a_message_and_the_server_survives(server: tuple[str, Path], browser: Any,
                                                                  artefacts: Path, tmp_path: Path) -> None:
    url, out = server
    bad = tmp_path / "broken.toml"
    bad.write_text('[scenario]\nid = "x"\n[[levers]]\nid = 3\n', encoding="utf-8")
    page = _page(browser, url, "zh")
    page.locator(".convsim-upload input[type=file]").set_input_files(str(bad))
    msg = page.locator(".convsim-message")
    msg.get_by_text("broken.toml").wait_for()
    assert msg.get_by_text("错误:").first.is_visible()  # in the page's language
    page.screenshot(path=artefacts / "broken-upload.png")
    page.close()
    again = _page(browser, url, "en")  # the server still serves
    assert again.get_by_text("Build a mix").first.is_visible()
    again.close()
    assert all(p.is_relative_to(out) for p in out.rglob("*"))


def test_two_users_keep_their_own_state(server: tuple[str, Path], browser: Any, artefacts: Path) -> None:
    url, _ = server
    ctx_a, ctx_b = browser.new_context(), browser.new_context()
    a, b = ctx_a.new_page(), ctx_b.new_page()
    for p in (a, b):
        p.goto(f"{url}?lang=en")
        p.locator(".convsim-run button").wait_for()
    a.locator(".convsim-lever-venture_equity input").check()
    b.locator(".convsim-lever-certified_brokers input").check()
    b.locator(".convsim-lever-transfer_agencies input").check()
    a.get_by_text("200.0").first.wait_for()  # venture equity: 2 M yuan a year
    b.get_by_text("270.0").first.wait_for()  # brokers 1.2 M + agencies 1.5 M
    assert a.locator(".convsim-lever-certified_brokers input").is_checked() is False
    assert b.locator(".convsim-lever-venture_equity input").is_checked() is False
    a.screenshot(path=artefacts / "user-a.png")
    b.screenshot(path=artefacts / "user-b.png")
    ctx_a.close()
    ctx_b.close()


def test_the_optimiser_tab_finds_a_mix_that_loads_into_the_builder(server: tuple[str, Path], browser: Any,
                                                                   artefacts: Path) -> None:
    url, out = server
    page = _page(browser, url, "en")
    _set_number(page, ".convsim-budget", 100)  # 10k yuan: 1 M yuan a year
    page.get_by_text("Best mix", exact=True).first.click()
    _set_number(page, ".convsim-opt-trials", 5)  # the fewest the page allows
    _set_number(page, ".convsim-opt-reps", 9)
    page.locator(".convsim-opt-run button").click()
    page.get_by_text("Best mix found:").wait_for(timeout=TIMEOUT_MS)
    time.sleep(0.5)
    page.screenshot(path=artefacts / "optimiser.png", full_page=True)
    found = json.loads((out / "optimise-1000000" / "result.json").read_text(encoding="utf-8"))
    assert found["mix"] and found["max_yearly_cost_yuan"] <= 1_000_000 * (1 + 1e-9)
    catalogue = Catalogue(ROOT / "scenarios")
    for lid in found["mix"]:  # the mix on the page is the optimiser's, by the measures' names and sizes
        page.get_by_text(catalogue.by_id[lid].lever.name_en, exact=False).first.wait_for()
    assert page.get_by_text("Δ industrialised projects").first.is_visible()
    page.locator(".convsim-opt-load button").click()
    page.get_by_text("Loaded: best.toml").wait_for()
    page.get_by_text("Build a mix", exact=True).first.click()
    for lid in catalogue.by_id:
        assert page.locator(f".convsim-lever-{lid} input").is_checked() == (lid in found["mix"]), lid
    for lid in found["mix"]:  # each measure says what it does at the intensity found
        assert page.locator(f".convsim-size-{lid}").first.is_visible(), lid
    assert page.get_by_text("within budget").first.is_visible()
    page.screenshot(path=artefacts / "optimiser-loaded.png", full_page=True)
    page.close()


def test_your_value_outside_the_range_is_marked_and_changes_the_answer(server: tuple[str, Path], browser: Any,
                                                                      artefacts: Path) -> None:
    url, _ = server
    page = _page(browser, url, "en")
    page.locator(".convsim-lever-ip_protection input").check()  # stated 0.6, plausible 0.4–0.8
    _set_number(page, ".convsim-reps", 200)
    stated = _run_and_wait(page)
    assert page.get_by_text("How sure are we?").first.is_visible()  # after the headline it qualifies
    page.get_by_text("Assumptions", exact=True).first.click()
    text = page.locator(".convsim-assumption-ip_protection")
    text.get_by_text("share of imitation prevented: 30 % → 60 %").first.wait_for()
    assert not text.get_by_text("outside the plausible range").first.is_visible()
    _set_number(page, ".convsim-effect-ip_protection", 0.95)
    text.get_by_text("outside the plausible range").first.wait_for()
    text.get_by_text("share of imitation prevented: 30 % → 95 %").first.wait_for()  # the size it runs at
    page.screenshot(path=artefacts / "your-value.png", full_page=True)
    page.get_by_text("Results", exact=True).first.click()
    page.locator(".convsim-run button").click()
    cell = page.locator(f"td[data-kpi='industrialised']:not([data-mean='{stated}'])").first
    cell.wait_for(timeout=TIMEOUT_MS)
    page.get_by_text("Done:").first.wait_for(timeout=TIMEOUT_MS)
    shown = float(str(cell.get_attribute("data-mean")))
    time.sleep(1)  # the figures' images load
    page.screenshot(path=artefacts / "results-how-sure.png", full_page=True)
    catalogue = Catalogue(ROOT / "scenarios")
    mix = Mix(catalogue)
    mix.set("ip_protection", on=True, effect=0.95)
    lib = sim.compare(catalogue.baseline, [mix.scenario("mix")], reps=200, seed=0, engine="fast")
    assert shown == float(lib.summary.loc["mix", "delta"]) and shown != float(stated)
    page.close()
