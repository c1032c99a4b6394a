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
    # the layers above the run layer cannot reach compiled code: editing them keeps the compiled engine
    edited = source_digest(copy)
    for name in ("jobs/compare.py", "cli/run.py", "analysis/report.py"):
        f = copy / name
        f.write_text(f.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert source_digest(copy) == edited


def test_the_layers_left_out_of_the_digest_are_above_every_compiled_module() -> None:
    """What the digest leaves out is what the layer test keeps out of reach of the engines and the rules."""
    from sim._cache import ABOVE_COMPILED_CODE
    from tests.test_layers import LAYERS, graph, layer

    engines = next(i for i, group in enumerate(LAYERS) if "sim.engines" in group)
    for name in ABOVE_COMPILED_CODE:
        module = "sim." + name.removesuffix(".py")
        assert layer(module) < engines, module  # above the engines: nothing compiled may import it
    g = graph()
    compiled = [m for m in g if m.startswith(("sim.engines", "sim.rules"))]
    reach = set(compiled)
    todo = list(compiled)
    while todo:
        for dep in g[todo.pop()]:
            if dep not in reach:
                reach.add(dep)
                todo.append(dep)
    left_out = {m for m in reach if m.split(".")[1] + ("" if m.count(".") > 1 else ".py") in ABOVE_COMPILED_CODE
                or m.split(".")[1] in ABOVE_COMPILED_CODE}
    assert not left_out, left_out


#: In a fresh process: define the package's compiled code (no compiling) and a function of the user's own,
#: then print where Numba would cache each.
_WHERE = """
import os, sys, numba
import sim.engines.fast, sim.engines.reference
from numba.core.dispatcher import Dispatcher
from sim._cache import cache_folder
paths = [d._cache.cache_path for name, m in list(sys.modules.items()) if name.startswith("sim") and m
         for d in vars(m).values() if isinstance(d, Dispatcher) and hasattr(d._cache, "cache_path")]
mine = numba.njit(cache=True)(lambda x: x)
print(cache_folder()); print(len(paths)); print(" ".join(sorted({os.path.dirname(p) for p in paths})))
print(mine._cache.cache_path); print(os.environ.get("NUMBA_CACHE_DIR", "-")); print(repr(numba.config.CACHE_DIR))
"""


def test_cache_folder_is_keyed_and_only_the_packages(tmp_path: Path) -> None:
    """The package's compiled code goes to the keyed folder; the process's settings and a user's own compiled
    function are left alone; a NUMBA_CACHE_DIR set by the user takes everything."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(Path(sim.__file__).parents[1])}
    user_fn = tmp_path / "user.py"
    user_fn.write_text(_WHERE, encoding="utf-8")
    out = subprocess.run([sys.executable, str(user_fn)], capture_output=True, text=True, check=True, env=env)
    folder, n, parents, mine, env_var, config = out.stdout.splitlines()
    assert folder == str(tmp_path / ".cache" / "convsim" / f"numba-{source_digest()}")
    assert int(n) > 20 and parents == folder  # every compiled function of the package, in the keyed folder
    assert not mine.startswith(folder)  # the user's own function: Numba's usual place
    assert (env_var, config) == ("-", "''")  # neither the environment nor Numba's settings touched
    out = subprocess.run([sys.executable, str(user_fn)], capture_output=True, text=True, check=True,
                         env={**env, "NUMBA_CACHE_DIR": str(tmp_path / "c")})
    folder, n, parents, mine, env_var, _ = out.stdout.splitlines()
    assert folder == env_var == str(tmp_path / "c")
    assert parents == folder and mine.startswith(folder)  # the user's choice, for everything
