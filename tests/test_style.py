"""The code stays ruff-clean (part of the test command, so CI enforces it)."""

import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT


def test_ruff_clean() -> None:
    exe = shutil.which("ruff")
    if exe is None:
        pytest.skip("ruff not installed (pip install -e '.[test]')")
    p = subprocess.run([exe, "check", "sim", "tests", "benchmarks", "notebooks"], cwd=ROOT, capture_output=True,
                       text=True)
    assert p.returncode == 0, p.stdout + p.stderr


@pytest.mark.slow
def test_mypy_clean() -> None:
    exe = shutil.which("mypy")
    if exe is None:
        pytest.skip("mypy not installed (pip install -e '.[test]')")
    p = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr


def test_package_imports_without_side_effects() -> None:
    p = subprocess.run([sys.executable, "-c", "import sim, sim.rules, sim.cli"], capture_output=True, text=True)
    assert p.returncode == 0 and p.stdout == "", p.stderr
