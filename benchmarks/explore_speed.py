"""How fast the planner's page answers (``convsim explore``), with the compiled engine cached.

Three figures, each over ``--rounds`` rounds (median, min, max printed):

- *page ready*: from starting ``python -m sim.cli explore`` until the page's run button is shown in
  Chromium (the browser is already running; the figure is the server's start and the page's build);
- *first answer*: from the click on "Run" (one measure switched on, 200 paired replications) until the
  headline numbers are on the page (each round with another seed, so nothing is reused);
- *cancel latency*: from ``Runner.cancel()`` (what a changed control calls) until the engine has stopped
  and the queue is free, on a run of 100,000 replications.

Needs Debian's Chromium at /usr/bin/chromium and playwright. Usage::

    python benchmarks/explore_speed.py --rounds 5
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _results import write_results  # noqa: E402


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stats(xs: list[float]) -> dict[str, float]:
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs), "n": len(xs)}


def page_figures(rounds: int, out: Path) -> tuple[list[float], list[float]]:
    from playwright.sync_api import sync_playwright

    ready: list[float] = []
    answer: list[float] = []
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium")
        for r in range(rounds):
            port = _port()
            url = f"http://localhost:{port}/?lang=en"
            t0 = time.perf_counter()
            proc = subprocess.Popen([sys.executable, "-m", "sim.cli", "explore", "--port", str(port), "--no-browser",
                                     "--out", str(out)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            try:
                while True:
                    try:
                        socket.create_connection(("127.0.0.1", port), timeout=2).close()  # a GET would build a page
                        break
                    except OSError:
                        time.sleep(0.02)
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(url)
                page.locator(".convsim-run button").wait_for(timeout=60_000)
                ready.append(time.perf_counter() - t0)
                page.locator(".convsim-lever-certified_brokers input").check()
                for css, v in ((".convsim-reps", 200), (".convsim-seed", 100 + r)):
                    page.locator(f"{css} input").fill(str(v))
                    page.locator(f"{css} input").press("Enter")
                page.get_by_text("Within budget").or_(page.get_by_text("within budget")).first.wait_for()
                time.sleep(3)  # the engine's preparation (loading the cached code) is over
                page.get_by_text("Results", exact=True).first.click()  # where the answer appears
                t1 = time.perf_counter()
                page.locator(".convsim-run button").click()
                page.locator("td[data-kpi='industrialised']").first.wait_for(timeout=120_000)
                answer.append(time.perf_counter() - t1)
                page.close()
                print(f"round {r + 1}: page ready {ready[-1]:.2f} s, first answer {answer[-1]:.2f} s", flush=True)
            finally:
                proc.terminate()
                proc.wait(10)
        browser.close()
    return ready, answer


def cancel_latency(rounds: int) -> list[float]:
    from sim.explore.jobs import JobQueue
    from sim.explore.mix import Catalogue, Mix
    from sim.explore.run import Runner

    cat = Catalogue(ROOT / "scenarios")
    mix = Mix(cat)
    mix.set("certified_brokers", on=True)
    out: list[float] = []
    for r in range(rounds):
        q = JobQueue()
        runner = Runner(q)
        runner.start(cat.baseline, [mix.scenario()], target=100_000, seed=r)
        while runner.snapshot().status != "running" or runner.snapshot().fraction < 0.001:
            time.sleep(0.01)
        time.sleep(0.5 + 0.1 * r)  # somewhere inside a chunk
        fut: Any = runner._future
        t0 = time.perf_counter()
        runner.cancel()
        while not fut.done() or q.running is not None:
            time.sleep(0.002)
        out.append(time.perf_counter() - t0)
        print(f"round {r + 1}: cancel latency {out[-1] * 1000:.0f} ms", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--out", default="/tmp/convsim-explore-bench", help="the app's output folder during the runs")
    a = ap.parse_args()
    load0 = os.getloadavg()
    ready, answer = page_figures(a.rounds, Path(a.out))
    cancel = cancel_latency(a.rounds)
    figures = {"page_ready_s": _stats(ready), "first_answer_200_reps_s": _stats(answer),
               "cancel_latency_s": _stats(cancel), "load_before": load0, "load_after": os.getloadavg(),
               "cores": os.cpu_count()}
    for k in ("page_ready_s", "first_answer_200_reps_s", "cancel_latency_s"):
        s = figures[k]
        print(f"{k:26s} median {s['median']:.3f}  min {s['min']:.3f}  max {s['max']:.3f}  (n={s['n']})")
    print(f"load average before {load0[0]:.2f}, after {os.getloadavg()[0]:.2f}; {os.cpu_count()} cores")
    write_results("explore_speed", figures)


if __name__ == "__main__":
    main()
