"""``convsim explore``: serve the page on this machine (or the office network) and open a browser."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

DEFAULT_PORT = 5006


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1, this machine "
                   "only; 0.0.0.0 serves colleagues on the office network)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 picks a free one)")
    p.add_argument("--lang", choices=("zh", "en"), default=None, help="language of the page (default: the browser's)")
    p.add_argument("--scenarios", default=None, help="scenario folder (default scenarios/ of the working folder)")
    p.add_argument("--out", default="runs/explore", help="the app's output folder: uploads, optimiser runs, "
                   "reports (default runs/explore)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")


def serve(host: str = "127.0.0.1", port: int = DEFAULT_PORT, lang: str | None = None,
          scenario_dir: Path | None = None, out_dir: Path | None = None, open_browser: bool = True,
          threaded: bool = False) -> Any:
    """Serve the explorer; blocks unless ``threaded`` (then returns the server thread; ``.stop()`` ends it)."""
    import panel as pn

    from sim.explore import backend as be
    from sim.explore.app import create_app
    from sim.explore.engine import ENGINE
    from sim.explore.jobs import shared_queue
    from sim.explore.mix import Catalogue

    scenario_dir = scenario_dir or be.default_scenario_dir()
    out_dir = (out_dir or Path("runs/explore")).resolve()
    catalogue = Catalogue(scenario_dir)  # a bad scenario folder is refused before the server starts
    ENGINE.prepare(shared_queue(), catalogue.baseline)  # the one-off compile starts with the server
    pn.extension()
    # on the office network the page is reached by the machine's name or address, which the server cannot list
    local = host in ("127.0.0.1", "localhost") and port
    origins = [f"localhost:{port}", f"127.0.0.1:{port}"] if local else ["*"]

    def app() -> Any:  # Panel calls a function once per session (it would display a partial object)
        return create_app(lang, scenario_dir, out_dir)

    return pn.serve({"/": app}, address=host, port=port, show=open_browser, threaded=threaded,
                    title="convsim explore", websocket_origin=origins, start=True, verbose=False)


def command(a: argparse.Namespace) -> int:
    """The ``explore`` subcommand."""
    from sim.errors import InputError

    try:
        import panel  # noqa: F401
    except ImportError:
        raise InputError("convsim explore needs Panel: pip install 'convsim[explore]' (or pip install panel)") from None
    if not 0 <= a.port <= 65535:
        raise InputError(f"--port: 0 to 65535, got {a.port}")
    scenario_dir = Path(a.scenarios) if a.scenarios else None
    if scenario_dir is not None and not (scenario_dir / "baseline.toml").is_file():
        raise InputError(f"--scenarios {scenario_dir}: no baseline.toml in that folder")
    shown = "localhost" if a.host in ("127.0.0.1", "0.0.0.0") else a.host
    print(f"convsim explore: http://{shown}:{a.port}/ (Ctrl-C stops the server)", file=sys.stderr)
    try:
        serve(a.host, a.port, a.lang, scenario_dir, Path(a.out), open_browser=not a.no_browser)
    except OSError as exc:
        raise InputError(f"--host {a.host} --port {a.port}: cannot listen there ({exc.strerror or exc})") from None
    return 0
