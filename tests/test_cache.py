"""The compiled-code cache follows the source: any edit of the package starts a fresh cache."""

import shutil
import subprocess
import sys
from pathlib import Path

import sim
from sim._cache import source_digest


def test_digest_changes_with_any_source_file(tmp_path: Path) -> None:
    pkg = Path(sim.__file__).parent
    copy = tmp_path / "sim"
    shutil.copytree(pkg, copy, ignore=shutil.ignore_patterns("__pycache__"))
    before = source_digest(copy)
    assert before == source_digest(pkg)
    rule = copy / "rules" / "meeting.py"
    rule.write_text(rule.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert source_digest(copy) != before


def test_cache_folder_is_keyed_and_user_choice_respected(tmp_path: Path) -> None:
    code = "import sim, numba; print(sim.NUMBA_CACHE); print(numba.config.CACHE_DIR)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "NUMBA_CACHE_DIR": str(tmp_path / "c")})
    assert out.stdout.split() == [str(tmp_path / "c")] * 2
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    first, second = out.stdout.split()
    assert first == second == str(tmp_path / ".cache" / "convsim" / f"numba-{source_digest()}")
