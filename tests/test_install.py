"""A non-editable install works from any folder: the wheel carries everything the commands read."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_non_editable_install_compares_from_an_empty_folder(tmp_path: Path) -> None:
    """Install a copy of the project with ``pip install .`` (not ``-e``) into a fresh virtual environment that
    borrows this one's libraries, then run ``convsim compare`` in an empty folder; compiles the fast engine
    once (a few minutes)."""
    src = tmp_path / "src"  # a copy: pip builds in the source folder, which must not be the repository
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    for name in ("sim", "scenarios", "calibration"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], check=True)
    py, convsim = venv / "bin" / "python", venv / "bin" / "convsim"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("NUMBA_")}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")  # the compiled code of this install, removed with tmp_path
    subprocess.run([py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
                    "--no-build-isolation", str(src)], check=True, env=env, cwd=tmp_path)
    shutil.rmtree(src)  # nothing below may read the source copy

    empty = tmp_path / "empty"
    empty.mkdir()
    where = subprocess.run([py, "-c", "import sim, sim.resources as r; print(sim.__file__); print(r.data_root())"],
                           capture_output=True, text=True, check=True, env=env, cwd=empty).stdout.split()
    site = venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    assert where == [str(site / "sim" / "__init__.py"), str(site / "sim" / "_data")]  # the venv's, not the repo

    run = subprocess.run([convsim, "compare", "--reps", "5", "--worlds", "2", "--report", "report", "--quiet"],
                         capture_output=True, text=True, env=env, cwd=empty, timeout=1800)
    assert run.returncode == 0, run.stderr
    report = empty / "report"
    for name in ("report.html", "summary.csv", "details.csv", "worlds.csv", "forest.png"):
        assert (report / name).stat().st_size > 0, name
    summary = (report / "summary.csv").read_text(encoding="utf-8")
    assert "g4_intermediaries" in summary and "all_five" in summary  # the shipped scenarios beside the baseline
    worlds = pd.read_csv(report / "worlds.csv")
    assert len(worlds) > 0 and (worlds["param_set"] >= 0).all()  # drawn from the shipped posterior, not defaults
    assert [p.name for p in empty.iterdir()] == ["report"]  # nothing else written in the working folder
    assert list((tmp_path / "cache" / "convsim").glob("numba-*/*/fast.run_batch-*.nbi"))  # cached where it says
