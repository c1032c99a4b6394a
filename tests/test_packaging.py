"""The package as users get it: a quiet import, the API in ``dir(sim)``, shipped files found, optional extras."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import sim
from sim import resources
from sim.errors import InputError

ROOT = Path(__file__).resolve().parents[1]


def _python(code: str, cwd: Path, **env: str) -> str:
    """Run ``code`` in a fresh interpreter on this checkout; its standard output."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
    out = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, check=True,
                         env={**base, "PYTHONPATH": str(ROOT), **env})
    return out.stdout


def test_import_has_no_side_effects_and_dir_lists_the_api(tmp_path: Path) -> None:
    code = ("import os, sys, sim; print('NUMBA_CACHE_DIR' in os.environ, 'numba' in sys.modules, "
            "sorted(m for m in sys.modules if m.startswith('sim'))); print(' '.join(dir(sim)))")
    first, names = _python(code, tmp_path).splitlines()
    # no cache folder set, no compiled code, nothing imported but the one-line version module
    assert first == "False False ['sim', 'sim.version']"
    listed = names.split()
    assert set(sim.__all__) <= set(listed)
    assert {"best_mix", "compare", "load_scenario", "run", "InputError", "__version__"} <= set(listed)
    assert not {"Any", "TYPE_CHECKING", "annotations"} & set(listed)  # the module's typing helpers are no API
    for name in sim.__all__:
        assert getattr(sim, name) is not None


def test_every_package_of_sim_is_in_the_wheel() -> None:
    """pyproject lists the packages (a mapped data package cannot be found): a new one must be added there."""
    from setuptools import find_packages

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    found = set(find_packages(str(ROOT), include=["sim", "sim.*"]))
    assert found - listed == set(), "add these packages to [tool.setuptools] packages in pyproject.toml"
    assert listed - found == {"sim._data.scenarios", "sim._data.calibration"}


def test_shipped_files_are_found_from_any_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = resources.data_root()
    assert resources.targets_path() == root / "calibration" / "targets.toml"
    assert resources.targets_path().is_file() and resources.calibration_file("posterior.csv").is_file()
    assert resources.shipped_scenario("baseline.toml").is_file()
    monkeypatch.chdir(tmp_path)
    # the default baseline, from a folder without scenarios/: the shipped copy
    assert resources.scenario_file(resources.DEFAULT_BASELINE) == resources.shipped_scenario("baseline.toml")
    # anything else not found is passed on unchanged, for the loader's message
    for p in ("scenarios/mine.toml", "other/baseline.toml", "baseline.toml", str(tmp_path / "scenarios/baseline.toml")):
        assert resources.scenario_file(p) == Path(p)
    # a user's own file is read as given, even where it shadows a shipped name
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "baseline.toml").write_text("", encoding="utf-8")
    assert resources.scenario_file("scenarios/baseline.toml") == Path("scenarios/baseline.toml")


def _chinese(c: str) -> bool:
    """A hanzi, CJK punctuation or a full-width form (other signs fall back to DejaVu Sans on figures)."""
    return 0x3000 <= ord(c) <= 0x303F or 0x4E00 <= ord(c) <= 0x9FFF or 0xFF00 <= ord(c) <= 0xFFEF


def test_bundled_font_covers_the_project_texts() -> None:
    """Every Chinese character of the labels, templates and shipped files has a glyph (else regenerate the
    subset)."""
    from fontTools.ttLib import TTFont

    path = resources.cjk_font_path()
    assert path.stat().st_size < 3_000_000
    assert "SIL OPEN FONT LICENSE Version 1.1" in (path.parent / "OFL.txt").read_text(encoding="utf-8")
    with TTFont(str(path)) as font:
        cmap = font.getBestCmap()
        assert font["name"].getDebugName(1) == "convsim Noto Sans SC"
    texts = [*ROOT.glob("sim/**/*.py"), *ROOT.glob("sim/**/*.j2"), *ROOT.glob("scenarios/*.toml"),
             *ROOT.glob("calibration/*.toml")]
    chars = {c for p in texts for c in p.read_text(encoding="utf-8") if _chinese(c)}
    missing = sorted(c for c in chars if ord(c) not in cmap)
    assert not missing, f"no glyph for {''.join(missing)}: run tools/make_font_subset.py"
    assert sum(0x4E00 <= c <= 0x9FFF for c in cmap) >= 3755  # GB 2312 level 1 at least
    assert all(ord(c) in cmap for c in "Suizhou 0-9 %.,:;()")


def test_smc_without_pyabc_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    from sim.calibration.priors import load_calibration
    from sim.calibration.smc import run_smc
    from sim.cli import main

    cal = load_calibration(ROOT / "calibration" / "smc.toml")
    monkeypatch.setitem(sys.modules, "pyabc", None)  # as if not installed: find_spec gives None
    with pytest.raises(InputError, match=r'pip install "convsim\[calibrate\]"'):
        run_smc(cal, tmp_path / "api")
    out = tmp_path / "cli"
    assert main(["calibrate", str(ROOT / "calibration" / "smc.toml"), "--method", "smc", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    last = err.splitlines()[-1]  # after the job's one-line announcement
    assert last.startswith("convsim: error:") and 'convsim[calibrate]' in last and "Traceback" not in err
    assert not (tmp_path / "api").exists() and not out.exists()  # stopped before writing anything
