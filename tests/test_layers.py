"""The package reads top-down: front ends → jobs → analysis / optimise / calibration / sweep → run layer →
engines → rules → model data. No import cycles, no upward imports, no private names across packages.

The import graph is built from the source (every ``import`` and ``from … import``, inside functions and
``TYPE_CHECKING`` blocks too), so a lazy import cannot hide a dependency.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SIM = Path(__file__).resolve().parent.parent / "sim"

#: Layers, top first; a module may import its own layer and the layers below it.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("sim", "sim.cli", "sim.explore"),
    ("sim.api",),
    ("sim.jobs", "sim.results"),
    ("sim.analysis", "sim.optimise", "sim.calibration", "sim.sweep"),
    ("sim.experiment", "sim.executor", "sim.store", "sim.progress"),
    ("sim.engines",),
    ("sim.rules",),
    ("sim.params", "sim.scenario", "sim.table", "sim.derived", "sim.layout", "sim.streams", "sim.rng",
     "sim.errors", "sim.version", "sim.budget", "sim._cache", "sim._numba_start", "sim.resources", "sim.checks",
     "sim.extras", "sim.labels",
     "sim.fonts"),
)


def modules() -> dict[str, Path]:
    out = {}
    for p in SIM.rglob("*.py"):
        parts = p.relative_to(SIM.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = p
    return out


def imports(name: str, path: Path, known: dict[str, Path]) -> Iterator[tuple[str, list[str], int]]:
    """(module imported, names taken from it, line) for every import of ``sim`` code in the file."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "sim":
                    yield a.name, [], node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join([*base, *([node.module] if node.module else [])])
            else:
                mod = node.module or ""
            if mod.split(".")[0] != "sim":
                continue
            names = [a.name for a in node.names]
            subs = [f"{mod}.{n}" for n in names if f"{mod}.{n}" in known]
            yield from ((s, [], node.lineno) for s in subs)
            rest = [n for n in names if f"{mod}.{n}" not in known]
            if rest:
                yield mod, rest, node.lineno


def graph() -> dict[str, set[str]]:
    known = modules()
    return {n: {m for m, _, _ in imports(n, p, known) if m in known and m != n} for n, p in known.items()}


def layer(name: str) -> int:
    for i, group in enumerate(LAYERS):
        if any(name == g or name.startswith(g + ".") for g in group if g != "sim") or name == "sim":
            return i
    raise AssertionError(f"{name}: in no layer of tests/test_layers.py — add it where it belongs")


def test_no_import_cycles() -> None:
    g = graph()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> None:
        state[n] = 1
        stack.append(n)
        for m in sorted(g[n]):
            if state.get(m) == 1:
                cycle = [*stack[stack.index(m):], m]
                pytest.fail("import cycle: " + " → ".join(cycle))
            if m not in state:
                visit(m)
        stack.pop()
        state[n] = 2

    for n in sorted(g):
        if n not in state:
            visit(n)


def test_every_module_imports_only_its_layer_and_below() -> None:
    upward = [f"{n} (layer {layer(n)}) imports {m} (layer {layer(m)})"
              for n, deps in graph().items() for m in deps if layer(m) < layer(n)]
    assert not upward, "\n".join(upward)


def test_no_private_name_is_imported_from_another_package() -> None:
    known = modules()
    bad = []
    for n, p in known.items():
        pkg = n if p.name == "__init__.py" else n.rpartition(".")[0]
        for mod, names, line in imports(n, p, known):
            other = mod if known.get(mod, Path()).name == "__init__.py" else mod.rpartition(".")[0]
            private = [x for x in names if x.startswith("_") and not x.startswith("__")]
            if private and other != pkg:
                bad.append(f"{p.relative_to(SIM.parent)}:{line} imports {', '.join(private)} from {mod}")
            if mod.rpartition(".")[2].startswith("_") and mod.rpartition(".")[0] not in (pkg, "sim"):
                bad.append(f"{p.relative_to(SIM.parent)}:{line} imports the private module {mod}")
    assert not bad, "\n".join(bad)


def test_only_the_run_layer_calls_the_engines() -> None:
    callers = sorted(n for n, deps in graph().items() if any(m.startswith("sim.engines") for m in deps)
                     and not n.startswith("sim.engines"))
    assert callers == ["sim.experiment"], callers


def test_command_modules_are_short() -> None:
    long = {p.name: n for p in (SIM / "cli").glob("*.py") if (n := len(p.read_text(encoding="utf-8").splitlines()))
            > 300}
    assert not long, long


def _functions(path: Path) -> dict[str, set[str]]:
    """Every module-level function of ``path`` and the names it refers to (calls, references, imports)."""
    out: dict[str, set[str]] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef):
            refs: set[str] = set()
            for sub in ast.walk(node):
                if isinstance(sub, ast.Name):
                    refs.add(sub.id)
                elif isinstance(sub, ast.ImportFrom) and (sub.module or "").startswith("sim.engines"):
                    refs.add("<engine>")
                elif isinstance(sub, ast.Import) and any(a.name.startswith("sim.engines") for a in sub.names):
                    refs.add("<engine>")
            out[node.name] = refs
    return out


def _reaching(funcs: dict[str, set[str]], target: str, without: str | None = None) -> set[str]:
    """The functions that reach ``target`` through references, not passing through ``without``."""
    reach = {target}
    grew = True
    while grew:
        grew = False
        for name, refs in funcs.items():
            if name != without and name not in reach and refs & reach:
                reach.add(name)
                grew = True
    return reach - {target}


def test_only_the_run_layers_entry_point_calls_the_engines() -> None:
    """Inside the run layer, every way from a public function to an engine that runs replications goes through
    ``execute``; only ``engine_ready`` (which compiles, and runs nothing) reaches an engine another way."""
    funcs = _functions(SIM / "experiment.py")
    direct = {n for n, refs in funcs.items() if "<engine>" in refs}
    assert direct == {"_run_arrays", "_mean_records", "_trace", "engine_ready"}, direct
    through = _reaching(funcs, "<engine>", without="execute")
    public = sorted(n for n in through if not n.startswith("_"))
    assert public == ["engine_ready"], public
    assert {"execute", "results", "run_records"} <= _reaching(funcs, "<engine>")
    # the one function a worker runs is only handed out by execute
    assert [n for n, refs in funcs.items() if "_run_task" in refs] == ["execute"]


def test_every_job_reaches_the_engines_through_a_run_plan() -> None:
    """Every job hands a RunPlan to the run layer: the modules that run replications take ``execute`` or
    ``results`` and build a plan; none sends tasks to an executor itself, and none uses the one-table shorthand
    ``run_records`` (for notebooks and tests)."""
    known = modules()
    runs = {"sim.jobs.run", "sim.jobs.measures", "sim.analysis.compare", "sim.analysis.uncertainty",
            "sim.sweep.runner", "sim.optimise.evaluate", "sim.calibration.model", "sim.calibration.smc",
            "sim.calibration.predictive"}
    taken: dict[str, set[str]] = {n: set() for n in known}
    for n, p in known.items():
        for mod, names, _ in imports(n, p, known):
            taken[n].update(f"{mod}.{x}" for x in names)
    for n in sorted(runs):
        assert {"sim.experiment.execute", "sim.experiment.results"} & taken[n], f"{n} runs nothing through a plan"
        text = (known[n]).read_text(encoding="utf-8")
        assert "RunPlan" in text or "set_plan" in text, f"{n} builds no RunPlan"
    tasks = {"sim.executor.ordered", "sim.executor.as_finished", "sim.executor.map_ordered"}
    senders = sorted(n for n, names in taken.items() if names & tasks)
    assert senders == ["sim.experiment"], senders
    shorthand = sorted(n for n, names in taken.items() if "sim.experiment.run_records" in names)
    assert not shorthand, shorthand
