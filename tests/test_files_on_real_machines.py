"""Nothing a user owns is lost on a real machine: links, mount points, full disks, other users, kills, two writers.

Each test builds the situation for real where the machine allows it — a
symbolic link, a ``tmpfs`` that fills up, a folder another user cannot write,
a process killed with SIGKILL between two renames, a second process holding
the folder — and checks that the user's files are untouched, that the answer
is one line (exit 2 for a bad path, :data:`sim.store.EX_IOERR` for a failed
write) and that nothing hidden is left behind.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.cli import main
from sim.errors import InputError
from sim.store import (
    EX_IOERR,
    MARKER,
    WriteError,
    atomic_files,
    atomic_folder,
    check_output_dir,
    foreign_files,
    write_marker,
    written_by_convsim,
)
from tests.conftest import ROOT

RUN = ["run", "scenarios/baseline.toml", "--reps", "2", "--quiet"]


class SimulationStartedError(Exception):
    """Raised by the stubs below: the command got past every check."""


def _stop(*args: object, **kwargs: object) -> None:
    raise SimulationStartedError


@pytest.fixture
def no_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every way into the engines raises :class:`SimulationStartedError` (a check that passes ends there)."""
    import sim.analysis.compare
    import sim.engines.reference
    import sim.experiment

    monkeypatch.setattr(sim.experiment, "engine_ready", _stop)
    monkeypatch.setattr(sim.experiment, "_run_arrays", _stop)
    monkeypatch.setattr(sim.engines.reference, "trace_reference", _stop)


@pytest.fixture
def workdir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A working directory other users may enter (``/tmp``, not pytest's private folder), with the scenarios."""
    d = Path(tempfile.mkdtemp(prefix="convsim-files-", dir="/tmp"))
    d.chmod(0o755)
    shutil.copytree(ROOT / "scenarios", d / "scenarios")
    monkeypatch.chdir(d)
    yield d
    for m in _mounts_below(d):
        subprocess.run(["umount", "-l", str(m)], check=False)
    shutil.rmtree(d, ignore_errors=True)


def _mounts_below(d: Path) -> list[Path]:
    with open("/proc/mounts", encoding="utf-8") as f:
        return [Path(line.split()[1]) for line in f if line.split()[1].startswith(str(d))]


def _tree(d: Path) -> dict[str, tuple[str, str | bytes]]:
    """Everything below ``d`` as it is, links not followed: files with their bytes, links with their targets."""
    out: dict[str, tuple[str, str | bytes]] = {}
    for root, dirs, names in os.walk(d):
        for n in [*dirs, *names]:
            p = Path(root) / n
            rel = p.relative_to(d).as_posix()
            out[rel] = (("link", os.readlink(p)) if p.is_symlink() else ("dir", "") if p.is_dir()
                        else ("file", p.read_bytes()))
    return out


def _one_line(err: str, *needles: str) -> str:
    err = err.strip()
    assert "\n" not in err and "Traceback" not in err, err
    assert err.startswith("convsim"), err
    for n in needles:
        assert n in err, (n, err)
    return err


def _after_note(err: str) -> str:
    """stderr without the announcement of a replacement (said before the write that failed)."""
    return "\n".join(x for x in err.strip().splitlines() if not x.startswith("convsim: replacing the earlier"))


def _hidden(d: Path) -> list[str]:
    """Hidden things convsim might leave beside its outputs (temporary and old folders, lock files)."""
    return sorted(p.name for p in d.iterdir() if p.name.startswith("."))


def _cli(*argv: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sim.cli", *argv], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}, timeout=600)


# -- markers: patterns name files in the folder, never paths below it ---------------------------------------------


def test_a_marker_pattern_never_matches_below_the_folder(workdir: Path) -> None:
    with atomic_folder(workdir / "o", kind="optimise", patterns=["frontier-*"]) as tmp:
        (tmp / "frontier.csv").write_text("1", encoding="utf-8")
    (workdir / "o" / "frontier-a.csv").write_text("convsim's by the pattern", encoding="utf-8")
    (workdir / "o" / "frontier-analysis").mkdir()
    (workdir / "o" / "frontier-analysis" / "my_notes.md").write_text("mine", encoding="utf-8")
    assert foreign_files(workdir / "o") == ["frontier-analysis/my_notes.md"]
    with pytest.raises(InputError, match=r"frontier-analysis/my_notes\.md"), \
            atomic_folder(workdir / "o", kind="optimise") as tmp:
        (tmp / "frontier.csv").write_text("2", encoding="utf-8")
    assert (workdir / "o" / "frontier-analysis" / "my_notes.md").read_text(encoding="utf-8") == "mine"


def test_the_optimisers_folder_lists_exact_names(workdir: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """The optimiser's marker once held ``frontier-*``: a user's ``frontier-mine.csv`` counted as convsim's."""
    import sim.jobs.optimise

    monkeypatch.setattr(sim.jobs.optimise, "_search_and_confirm",
                        lambda cfg, *a, **k: sim.jobs.optimise.OptimiseResult(cfg.out, {}, ""))
    assert main(["optimise", "--budget", "3e6", "--out", "o"]) == 0
    (workdir / "o" / "frontier-mine.csv").write_text("mine", encoding="utf-8")
    (workdir / "o" / "frontier-analysis").mkdir()
    (workdir / "o" / "frontier-analysis" / "my_notes.md").write_text("mine", encoding="utf-8")
    assert foreign_files(workdir / "o") == ["frontier-analysis/my_notes.md", "frontier-mine.csv"]
    before = _tree(workdir)
    capsys.readouterr()
    assert main([*RUN, "--out", "o"]) == 2
    _one_line(capsys.readouterr().err, "o", "convsim optimise")
    assert _tree(workdir) == before


# -- other commands' outputs --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind, files", [("calibrate", ["abc.db", "manifest.json"]),
                                         ("sweep", ["manifest.json", "design.csv"]),
                                         ("compare", ["report.html"])])
def test_another_commands_output_is_never_replaced(workdir: Path, kind: str, files: list[str], no_work: None,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    d = workdir / "runs" / f"{kind}-smc"
    d.mkdir(parents=True)
    for f in files:
        (d / f).write_bytes(b"hours of work")
    write_marker(d, kind, files)
    before = _tree(workdir)
    assert main([*RUN, "--out", str(d)]) == 2
    _one_line(capsys.readouterr().err, f"convsim {kind}", "never replaces")
    assert _tree(workdir) == before
    # and at the moment of the swap, for a caller that skipped the check
    with pytest.raises(InputError, match=f"convsim {kind}"), atomic_folder(d, kind="run") as tmp:
        (tmp / "records.parquet").write_bytes(b"new")
    assert _tree(workdir) == before


def test_compare_never_replaces_a_run(workdir: Path, no_work: None, capsys: pytest.CaptureFixture[str]) -> None:
    d = workdir / "r"
    d.mkdir()
    (d / "records.parquet").write_bytes(b"records")
    write_marker(d, "run", ["records.parquet"])
    assert main(["compare", "--reps", "2", "--report", "r"]) == 2
    _one_line(capsys.readouterr().err, "--report", "convsim run")
    assert (d / "records.parquet").read_bytes() == b"records"


def test_a_replacement_is_announced_even_under_quiet(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*RUN, "--out", "r"]) == 0
    capsys.readouterr()
    assert main([*RUN, "--out", "r"]) == 0
    assert "replacing the earlier convsim output in r" in capsys.readouterr().err
    assert _hidden(workdir) == []


def test_links_and_empty_folders_inside_an_earlier_output_are_the_users(
        workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*RUN, "--out", "prev"]) == 0
    (workdir / "mine").mkdir()
    (workdir / "prev" / "my_data_link").symlink_to("../mine")
    (workdir / "prev" / "my_figures").mkdir()
    before = _tree(workdir)
    capsys.readouterr()
    assert main([*RUN, "--out", "prev"]) == 2
    _one_line(capsys.readouterr().err, "my_data_link (a symbolic link)", "1 more")
    assert _tree(workdir) == before
    assert foreign_files(workdir / "prev") == ["my_data_link", "my_figures/"]


# -- paths as the file system presents them -----------------------------------------------------------------------


@pytest.mark.parametrize("target_holds", ["nothing", "an earlier output"])
def test_out_through_a_symbolic_link_writes_where_it_points(workdir: Path, target_holds: str) -> None:
    data = workdir / "data_disk"
    (data / "mine").mkdir(parents=True)
    if target_holds != "nothing":
        assert main([*RUN, "--out", str(data / "mine")]) == 0
    (workdir / "link").symlink_to(data / "mine")
    for _ in range(2):  # a new output, then a replacement
        assert main([*RUN, "--out", "link"]) == 0
        assert (workdir / "link").is_symlink() and os.readlink(workdir / "link") == str(data / "mine")
        assert pd.read_parquet(data / "mine" / "records.parquet")["rep"].nunique() == 2
        assert _hidden(workdir) == [] and _hidden(data) == []


def test_runs_linked_to_another_disk(workdir: Path) -> None:
    (workdir / "disk" / "runs").mkdir(parents=True)
    (workdir / "runs").symlink_to(workdir / "disk" / "runs")
    assert main([*RUN]) == 0 and main([*RUN]) == 0
    assert (workdir / "runs").is_symlink() and (workdir / "disk" / "runs" / "baseline" / "records.parquet").is_file()
    assert _hidden(workdir / "disk" / "runs") == []


@pytest.mark.parametrize("argv, out, needles", [
    (RUN, "dangling", ["dangling", "symbolic link", "does not exist"]),
    (RUN, "dangling/below", ["dangling", "does not exist"]),
    (RUN, "loop", ["loop"]),
    (RUN, "", ["--out", "working in"]),  # '' is the working directory, never runs/<id>
    (RUN, "x" * 300, ["300 bytes", "at most 255"]),
    (RUN, "x" * 300 + "/y", ["300 bytes"]),
    (["compare", "--reps", "2"], None, ["--report", "300 bytes"]),
    (["trace", "scenarios/baseline.toml"], "t" * 300 + ".csv", ["304 bytes"]),
    (["trace", "scenarios/baseline.toml"], "dangling.csv", ["symbolic link"]),
])
def test_bad_output_paths_are_one_line_before_any_work(workdir: Path, argv: list[str], out: str | None,
                                                       needles: list[str], no_work: None,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "dangling").symlink_to("nowhere")
    (workdir / "dangling.csv").symlink_to("nowhere.csv")
    (workdir / "loop").symlink_to("loop2")
    (workdir / "loop2").symlink_to("loop")
    before = _tree(workdir)
    option = ["--report", "r" * 300] if out is None else ["--out", out]
    assert main([*argv, *option]) == 2
    _one_line(capsys.readouterr().err, *needles)
    assert _tree(workdir) == before


def _mount_tmpfs(where: Path, size: str) -> None:
    where.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.decode().strip() or 'not root'})")


def _working(m: Path) -> list[str]:
    """convsim's working entries inside a mount point (staging and old folders, the swap's record)."""
    return sorted(n for n in os.listdir(m) if n.startswith((".convsim-swap", "..convsim-swap")))


def test_an_earlier_output_on_a_mount_point_is_replaced_by_swapping_its_contents(
        workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    m = workdir / "m"
    _mount_tmpfs(m, "8m")
    assert main([*RUN, "--out", "m"]) == 0  # an empty mount point: the output is written into it
    (workdir / "elsewhere").mkdir()
    (m / "notes.txt").write_text("mine", encoding="utf-8")
    (m / "mine").mkdir()
    (m / "mine" / "data.csv").write_text("a,b\n", encoding="utf-8")
    (m / "my_link").symlink_to("../elsewhere")
    (m / "lost+found").mkdir()
    users = {k: v for k, v in _tree(m).items() if k.startswith(("notes", "mine", "my_link", "lost+found"))}
    capsys.readouterr()
    assert main(["run", "scenarios/baseline.toml", "--reps", "3", "--quiet", "--out", "m"]) == 0
    assert "replacing the earlier convsim output in m" in capsys.readouterr().err
    assert os.path.ismount(m) and pd.read_parquet(m / "records.parquet")["rep"].nunique() == 3
    assert {k: v for k, v in _tree(m).items() if k in users} == users  # the user's things stayed, untouched
    assert _working(m) == [] and foreign_files(m) == ["lost+found/", "mine/data.csv", "my_link", "notes.txt"]
    assert main([*RUN, "--out", "m/out"]) == 0 and main([*RUN, "--out", "m/out"]) == 0  # a folder inside it too
    assert _hidden(m) == [MARKER]


def test_a_mount_point_swap_refuses_what_would_move_or_replace_a_users_file(workdir: Path) -> None:
    m = workdir / "m"
    _mount_tmpfs(m, "8m")
    with atomic_folder(m, kind="sweep", patterns=["parts/p[0-9]*"]) as tmp:
        (tmp / "parts").mkdir()
        (tmp / "parts" / "p1").write_text("1", encoding="utf-8")
    (m / "parts" / "my_notes.md").write_text("mine", encoding="utf-8")  # inside convsim's own folder
    before = _tree(m)
    with pytest.raises(InputError, match=r"parts/ holds convsim's files and things convsim did not write"), \
            atomic_folder(m, kind="sweep", patterns=["parts/p[0-9]*"]) as tmp:
        (tmp / "design.csv").write_text("new", encoding="utf-8")
    assert _tree(m) == before and _working(m) == []
    (m / "parts" / "my_notes.md").unlink()
    (m / "design.csv").write_text("the user's own design", encoding="utf-8")  # a name the new output also has
    before = _tree(m)
    with pytest.raises(InputError, match=r"design\.csv there is not convsim's.*nothing was replaced"), \
            atomic_folder(m, kind="sweep", patterns=["parts/p[0-9]*"]) as tmp:
        (tmp / "design.csv").write_text("new", encoding="utf-8")
    assert _tree(m) == before and _working(m) == []
    with pytest.raises(InputError, match="convsim sweep"), atomic_folder(m, kind="run") as tmp:
        (tmp / "records.parquet").write_text("new", encoding="utf-8")
    assert _tree(m) == before and _working(m) == []


def test_a_mount_point_holding_only_its_lost_and_found_is_written_into(workdir: Path) -> None:
    """A fresh ext4 file system holds ``lost+found``: the output goes in beside it, which stays untouched."""
    m = workdir / "m"
    _mount_tmpfs(m, "8m")
    (m / "lost+found").mkdir()
    (m / "lost+found" / "#12").write_text("recovered", encoding="utf-8")
    with atomic_folder(m, kind="run") as tmp:
        (tmp / "a.txt").write_text("new a", encoding="utf-8")
    assert (m / "a.txt").read_text(encoding="utf-8") == "new a"
    assert (m / "lost+found" / "#12").read_text(encoding="utf-8") == "recovered" and _working(m) == []


def test_a_users_file_appearing_mid_swap_on_a_mount_point_undoes_it(workdir: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Something of the user's takes a new entry's name between the check and the move: the swap goes back, the
    earlier output is restored, the user's file is untouched, and the message says so."""
    import sim.store

    m = workdir / "m"
    _mount_tmpfs(m, "8m")
    with atomic_folder(m, kind="run") as tmp:
        (tmp / "a.txt").write_text("old a", encoding="utf-8")
        (tmp / "d.txt").write_text("old d", encoding="utf-8")
    old = _ours(m)
    real = sim.store._move

    def move(a: Path, b: Path) -> None:
        if b == m / "b.txt":  # the last new entry: the old ones are aside, two new ones already in
            b.write_text("the user's, just now", encoding="utf-8")
        real(a, b)

    monkeypatch.setattr(sim.store, "_move", move)
    with pytest.raises(WriteError, match=r"b\.txt appeared there meanwhile.*earlier output is back"), \
            atomic_folder(m, kind="run") as tmp:
        (tmp / "a.txt").write_text("new a", encoding="utf-8")
        (tmp / "b.txt").write_text("new b", encoding="utf-8")
    assert {k: v for k, v in _ours(m).items() if k != "b.txt"} == old
    assert (m / "b.txt").read_text(encoding="utf-8") == "the user's, just now" and _working(m) == []


KILL_IN_A_MOUNT_SWAP = textwrap.dedent("""
    import os, shutil, signal, sys
    import sim.store as s
    n = int(sys.argv[1])
    def killing(f):
        def step(*a, **k):
            global n
            n -= 1
            if n == 0:
                os.kill(os.getpid(), signal.SIGKILL)
            return f(*a, **k)
        return step
    s._move, s._write_swap, shutil.rmtree = killing(s._move), killing(s._write_swap), killing(shutil.rmtree)
    with s.atomic_folder("m", kind="run") as tmp:
        (tmp / "a.txt").write_text("new a", encoding="utf-8")
        (tmp / "b").mkdir()
        (tmp / "b" / "c.txt").write_text("new c", encoding="utf-8")
""")


def _ours(m: Path) -> dict[str, object]:
    """convsim's entries in ``m``: files with their bytes, and the marker's list (its time stamp left out)."""
    out: dict[str, object] = {k: v for k, v in _tree(m).items() if k not in (MARKER, "notes.txt")}
    out[MARKER] = sorted(json.loads((m / MARKER).read_text(encoding="utf-8"))["files"])
    return out


#: The steps of a swap: its record (aside), three entries aside, the record (in), three entries in, the record
#: (done), the two hidden folders removed; a kill at each, and one after the last.
@pytest.mark.parametrize("step", range(1, 13))
def test_a_mount_point_swap_killed_at_any_step_is_finished_or_undone_by_the_next_command(
        workdir: Path, step: int, capsys: pytest.CaptureFixture[str]) -> None:
    from sim.store import writer

    m = workdir / "m"
    _mount_tmpfs(m, "8m")
    with atomic_folder(m, kind="run") as tmp:
        (tmp / "a.txt").write_text("old a", encoding="utf-8")
        (tmp / "d.txt").write_text("old d", encoding="utf-8")
    (m / "notes.txt").write_text("mine", encoding="utf-8")
    old = _ours(m)
    new = {"a.txt": ("file", b"new a"), "b": ("dir", ""), "b/c.txt": ("file", b"new c"),
           MARKER: ["a.txt", "b/c.txt"]}
    done = subprocess.run([sys.executable, "-c", KILL_IN_A_MOUNT_SWAP, str(step)], cwd=workdir, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=600)
    assert done.returncode == (0 if step == 12 else -signal.SIGKILL), done.stderr
    capsys.readouterr()
    with writer(m):
        assert check_output_dir(m, "--out", ("run",)) == "replace"  # the next command on it repairs it first
    assert _ours(m) == (old if step == 1 else new)  # the record not yet written: the old output; else the new one
    assert (m / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert _working(m) == []
    if 2 <= step <= 8:
        assert "completed the replacement of the output in" in capsys.readouterr().err


# -- a full disk, other I/O errors --------------------------------------------------------------------------------


def _fill(m: Path, leave: int) -> None:
    """Fill the file system of ``m`` until about ``leave`` bytes are free."""
    st_ = os.statvfs(m)
    free = st_.f_bavail * st_.f_frsize
    with (m / "filler").open("wb") as f:
        f.write(b"\0" * max(0, free - leave))


def test_a_full_disk_is_one_line_exit_74_and_the_earlier_output_intact(workdir: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    m = workdir / "m"
    _mount_tmpfs(m, "4m")
    assert main([*RUN, "--out", "m/r"]) == 0
    assert main(["trace", "scenarios/baseline.toml", "--out", "m/t.csv"]) == 0
    earlier = _tree(m)
    _fill(m, 8192)
    capsys.readouterr()
    assert main(["run", "scenarios/baseline.toml", "--reps", "6", "--engine", "simpy", "--quiet", "--out",
                 "m/r"]) == EX_IOERR
    note, err = capsys.readouterr().err.strip().split("\n")  # the replacement is announced, then fails
    assert note == "convsim: replacing the earlier convsim output in m/r"
    _one_line(err, "could not write", "m/r", "No space left on device", "unchanged")
    assert main(["trace", "scenarios/baseline.toml", "--rep", "1", "--out", "m/t.csv"]) == EX_IOERR
    _one_line(capsys.readouterr().err, "could not write", "t.csv", "No space left on device")
    (m / "filler").unlink()
    assert _tree(m) == earlier and _hidden(m) == []


def test_a_new_output_that_does_not_fit_beside_the_old_one_on_a_mount_point_keeps_the_old(
        workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    m = workdir / "m"
    _mount_tmpfs(m, "4m")
    assert main([*RUN, "--out", "m"]) == 0
    (m / "notes.txt").write_text("mine", encoding="utf-8")
    earlier = _tree(m)
    _fill(m, 8192)
    capsys.readouterr()
    assert main(["run", "scenarios/baseline.toml", "--reps", "6", "--engine", "simpy", "--quiet", "--out",
                 "m"]) == EX_IOERR
    _one_line(_after_note(capsys.readouterr().err), "could not write m", "No space left on device", "unchanged")
    (m / "filler").unlink()
    assert _tree(m) == earlier and _working(m) == []


def test_an_injected_write_error_is_one_line_exit_74(workdir: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """Where no tmpfs can be mounted the same path is taken: ENOSPC raised by the Parquet writer."""
    import sim.experiment

    assert main([*RUN, "--out", "r"]) == 0
    earlier = _tree(workdir)

    def full(self: object, path: Path) -> None:
        Path(path).write_bytes(b"PAR1 half")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(sim.experiment.RecordArrays, "write_parquet", full)
    capsys.readouterr()
    assert main([*RUN, "--out", "r"]) == EX_IOERR
    _one_line(_after_note(capsys.readouterr().err), "could not write r/records.parquet", "No space left on device")
    assert _tree(workdir) == earlier


# -- a place another user may not write ---------------------------------------------------------------------------


def _as_nobody(fn_argv: list[str]) -> tuple[int, str]:
    """Run ``convsim argv`` in a forked child that has become ``nobody`` (no root override); (status, stderr)."""
    import io

    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: no exec, so the interpreter need not be readable by nobody
        code = 99
        try:
            os.close(r)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            sys.stderr = io.StringIO()
            code = main(fn_argv)
        except SimulationStartedError:
            code = 98
        finally:
            os.write(w, sys.stderr.getvalue().encode() if isinstance(sys.stderr, io.StringIO) else b"")
            os._exit(code)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        err = f.read().decode()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), err


def test_a_read_only_place_is_refused_for_a_user_without_roots_override(workdir: Path, no_work: None) -> None:
    if os.getuid() != 0:
        pytest.skip("needs root to become another user (as an ordinary user, this user's own read-only folder "
                    "is the same test)")
    ro = workdir / "ro"
    ro.mkdir()
    prev = ro / "prev"
    prev.mkdir()
    (prev / "records.parquet").write_bytes(b"earlier")
    write_marker(prev, "run", ["records.parquet"])
    for p in (prev, ro):
        p.chmod(0o555)
    before = _tree(workdir)
    for out in ("ro/prev", "ro/new"):
        code, err = _as_nobody([*RUN, "--out", out])
        assert code == 2, err
        _one_line(err, out, "cannot write", "Permission denied")
    code, err = _as_nobody(["trace", "scenarios/baseline.toml", "--out", "ro/t.csv"])
    assert code == 2
    _one_line(err, "cannot write")
    assert _tree(workdir) == before


# -- interruptions: a kill between the two renames, a kill mid-write ----------------------------------------------


KILL_BETWEEN_RENAMES = textwrap.dedent("""
    import os, signal, sys
    import sim.store as s
    s._exchange = lambda a, b: False          # the two-step swap of systems without renameat2
    real = os.rename
    def rename(a, b):
        if ".new." in str(a):                 # the old output is already aside: a power cut now
            os.kill(os.getpid(), signal.SIGKILL)
        real(a, b)
    os.rename = rename
    from sim.cli import main
    sys.exit(main(["run", "scenarios/baseline.toml", "--reps", "3", "--quiet", "--out", "r"]))
""")


def test_a_swap_cut_between_its_renames_is_undone_by_the_next_command(workdir: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*RUN, "--out", "r"]) == 0
    earlier = (workdir / "r" / "records.parquet").read_bytes()
    done = subprocess.run([sys.executable, "-c", KILL_BETWEEN_RENAMES], cwd=workdir, capture_output=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=600)
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert not (workdir / "r").exists() and [h for h in _hidden(workdir) if h.startswith(".r.old.")]
    capsys.readouterr()
    check_output_dir(workdir / "r", "--out", ("run",))  # any next command on the output restores it first
    assert "restored the earlier output" in capsys.readouterr().err
    assert (workdir / "r" / "records.parquet").read_bytes() == earlier
    assert _hidden(workdir) == []  # and removed what the killed command had built
    assert main([*RUN, "--out", "r"]) == 0
    assert _hidden(workdir) == []


KILL_MID_WRITE = textwrap.dedent("""
    import os, signal, sys
    import sim.experiment as e
    def half(self, path):
        open(path, "wb").write(b"PAR1 and then the power went")
        os.kill(os.getpid(), signal.SIGKILL)
    e.RecordArrays.write_parquet = half
    from sim.cli import main
    sys.exit(main(["run", "scenarios/baseline.toml", "--reps", "3", "--quiet", "--out", "r"]))
""")


def test_a_run_killed_mid_write_then_a_clean_one(workdir: Path) -> None:
    assert main([*RUN, "--out", "r"]) == 0
    earlier = _tree(workdir / "r")
    done = subprocess.run([sys.executable, "-c", KILL_MID_WRITE], cwd=workdir, capture_output=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=600)
    assert done.returncode == -signal.SIGKILL
    assert _tree(workdir / "r") == earlier  # the earlier output, whole
    assert [h for h in _hidden(workdir) if h.startswith(".r.new.")]  # what the killed run was building
    assert main(["run", "scenarios/baseline.toml", "--reps", "3", "--quiet", "--out", "r"]) == 0
    assert pd.read_parquet(workdir / "r" / "records.parquet")["rep"].nunique() == 3
    assert _hidden(workdir) == []  # the next run on the same output removed it


def test_the_swap_is_one_atomic_exchange_here(workdir: Path) -> None:
    """On Linux the old and new folders trade places in one step: no moment without ``r``."""
    from sim.store import _exchange

    (workdir / "a").mkdir()
    (workdir / "b").mkdir()
    (workdir / "a" / "x").write_text("a", encoding="utf-8")
    if not _exchange(workdir / "a", workdir / "b"):
        pytest.skip("this system has no renameat2(RENAME_EXCHANGE); the two-step swap is tested above")
    assert (workdir / "b" / "x").read_text(encoding="utf-8") == "a" and not (workdir / "a" / "x").exists()


# -- trace twice ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["t.csv", "t.parquet"])
def test_trace_twice_replaces_its_own_trace(workdir: Path, name: str) -> None:
    assert main(["trace", "scenarios/baseline.toml", "--out", name]) == 0
    assert main(["trace", "scenarios/baseline.toml", "--rep", "1", "--out", name]) == 0
    assert "date" in (pd.read_csv(workdir / name) if name.endswith(".csv") else pd.read_parquet(workdir / name))
    assert _hidden(workdir) == []


# -- one writer per folder -----------------------------------------------------------------------------------------


HOLD = textwrap.dedent("""
    import sys, time
    from sim.store import check_output_dir
    check_output_dir("rep", "--report", ("compare",))
    print("holding", flush=True)
    time.sleep(120)
""")


def test_a_second_writer_of_the_same_folder_is_refused_naming_the_first(
        workdir: Path, no_work: None, capsys: pytest.CaptureFixture[str]) -> None:
    first = subprocess.Popen([sys.executable, "-c", HOLD, "compare", "--report", "rep"], cwd=workdir,
                             stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert first.stdout is not None and first.stdout.readline().strip() == "holding"
        assert main(["compare", "--reps", "2", "--report", "rep"]) == 2
        _one_line(capsys.readouterr().err, "rep", "another convsim command is writing", f"pid {first.pid}")
        assert not (workdir / "rep").exists()
    finally:
        first.kill()
        first.wait()
    with pytest.raises(SimulationStartedError):  # the first is gone: the folder is free
        main(["compare", "--reps", "2", "--report", "rep"])


def test_the_lock_is_let_go_after_the_write(workdir: Path) -> None:
    with atomic_folder(workdir / "o") as tmp:
        (tmp / "a").write_text("1", encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", "from sim.store import check_output_dir as c; print(c('o'))"],
                          cwd=workdir, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.stdout.strip() == "replace", done.stderr


# -- resuming over what a power cut leaves ---------------------------------------------------------------------------


def test_a_sweep_resumes_over_an_empty_or_cut_part_file(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from sim.sweep import load_sweep
    from sim.sweep.runner import part_path, prepare

    spec = workdir / "s.toml"
    spec.write_text('[sweep]\nid = "s"\nname_en = "s"\nname_zh = "s"\nscenario = "scenarios/baseline.toml"\n'
                    'reps = 2\n\n[[factors]]\nparam = "meeting.brokers"\nvalues = [4.0, 6.0, 8.0]\n', encoding="utf-8")
    sw = load_sweep(spec)
    out = workdir / "sw"
    _, todo = prepare(sw, out)
    assert len(todo) == 3
    for k, a in todo:
        p = part_path(out, k, sw.arms[a].id)
        p.parent.mkdir(parents=True, exist_ok=True)
        pd.DataFrame({"rep": [0, 1], "x": [1.0, 2.0]}).to_parquet(p)
    part_path(out, 0, sw.arms[0].id).write_bytes(b"")  # a power cut after the rename, before the data
    cut = part_path(out, 2, sw.arms[0].id)
    cut.write_bytes(cut.read_bytes()[:40])
    (out / "records" / "point=00009" / "arm=baseline").mkdir(parents=True)  # an interrupted mkdir: convsim's
    capsys.readouterr()
    _, todo = prepare(sw, out)
    assert todo == [(0, 0), (2, 0)]
    err = capsys.readouterr().err
    assert "point=00000" in err and "point=00002" in err and "computing it again" in err
    assert foreign_files(out) == []


# -- single files: posterior exports ---------------------------------------------------------------------------------


def test_a_users_posterior_is_never_taken_for_convsims(workdir: Path) -> None:
    from sim.jobs.calibrate import EXPORTED, check_export

    mine = workdir / "mine"
    mine.mkdir()
    (mine / "posterior.csv").write_text("meeting.brokers,weight\n5,1\n", encoding="utf-8")  # the documented format
    with pytest.raises(InputError, match=r"posterior\.csv"):
        check_export(mine)
    check_export(ROOT / "calibration")  # the repository's own export is recorded as convsim's
    theirs = workdir / "exported"
    with atomic_files(theirs, EXPORTED) as tmps:
        for n, t in tmps.items():
            t.write_text(n, encoding="utf-8")
    check_export(theirs)
    assert all(written_by_convsim(theirs / n) for n in EXPORTED)
    (theirs / "posterior.csv").write_text("edited by the user\n", encoding="utf-8")
    with pytest.raises(InputError, match="changed since"):
        check_export(theirs)


def test_a_multi_file_export_is_all_or_nothing(workdir: Path) -> None:
    from sim.jobs.calibrate import EXPORTED

    d = workdir / "exported"
    with atomic_files(d, EXPORTED) as tmps:
        for n, t in tmps.items():
            t.write_text(f"first {n}", encoding="utf-8")
    before = _tree(d)
    with pytest.raises(WriteError, match="No space left"), atomic_files(d, EXPORTED) as tmps:
        for i, (n, t) in enumerate(tmps.items()):
            if i == 3:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(t))
            t.write_text(f"second {n}", encoding="utf-8")
    assert _tree(d) == before
    with pytest.raises(KeyboardInterrupt), atomic_files(d, EXPORTED) as tmps:
        for t in tmps.values():
            t.write_text("third", encoding="utf-8")
        raise KeyboardInterrupt
    assert _tree(d) == before


def test_an_export_onto_a_full_disk_leaves_the_earlier_files(workdir: Path) -> None:
    from sim.jobs.calibrate import EXPORTED

    m = workdir / "m"
    _mount_tmpfs(m, "1m")
    with atomic_files(m / "cal", EXPORTED) as tmps:
        for t in tmps.values():
            t.write_bytes(b"x" * 1000)
    before = _tree(m / "cal")
    _fill(m, 8192)
    with pytest.raises(WriteError, match="No space left"), atomic_files(m / "cal", EXPORTED) as tmps:
        for t in tmps.values():
            t.write_bytes(b"y" * 4000)
    (m / "filler").unlink()
    assert _tree(m / "cal") == before


# -- the marker itself -------------------------------------------------------------------------------------------------


def test_the_marker_lists_the_kind_and_files(workdir: Path) -> None:
    assert main([*RUN, "--out", "r"]) == 0
    m = json.loads((workdir / "r" / MARKER).read_text(encoding="utf-8"))
    assert m["kind"] == "run" and set(m["files"]) == {"records.parquet", "manifest.json"}


# -- fuzz: output paths ----------------------------------------------------------------------------------------------


PARTS = ["a", "ä 目录", "x" * 256, "-dash", ".hidden", "link_dir", "link_prev", "dangling", "loop", "notes.txt",
         "prev", "mine", "..", ".", "sp ace", "new\tline", "é" * 130, "runs"]


@pytest.fixture(scope="module")
def fuzz_dir() -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix="convsim-fuzz-out-", dir="/tmp"))
    shutil.copytree(ROOT / "scenarios", d / "scenarios")
    (d / "mine").mkdir()
    (d / "mine" / "notes.txt").write_text("mine", encoding="utf-8")
    (d / "notes.txt").write_text("mine", encoding="utf-8")
    (d / "prev").mkdir()
    (d / "prev" / "records.parquet").write_bytes(b"earlier")
    write_marker(d / "prev", "run", ["records.parquet"])
    (d / "cal").mkdir()
    (d / "cal" / "abc.db").write_bytes(b"history")
    write_marker(d / "cal", "calibrate", ["abc.db"])
    (d / "link_dir").symlink_to("mine")
    (d / "link_prev").symlink_to("cal")
    (d / "dangling").symlink_to("nowhere")
    (d / "loop").symlink_to("loop")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@settings(max_examples=120, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=st.lists(st.sampled_from(PARTS), min_size=1, max_size=3), command=st.sampled_from(["run", "trace"]),
       suffix=st.sampled_from(["", ".csv", ".parquet"]))
def test_fuzzed_output_paths_are_used_or_one_line_and_nothing_moves(
        fuzz_dir: Path, parts: list[str], command: str, suffix: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import contextlib
    import io

    import sim.engines.reference
    import sim.experiment

    monkeypatch.chdir(fuzz_dir)
    monkeypatch.setattr(sim.experiment, "engine_ready", _stop)
    monkeypatch.setattr(sim.experiment, "_run_arrays", _stop)
    monkeypatch.setattr(sim.engines.reference, "trace_reference", _stop)
    out = "/".join(parts) + suffix
    before = _tree(fuzz_dir)
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            code = main([command, "scenarios/baseline.toml", f"--out={out}", *(["--quiet"] if command == "run"
                                                                                else [])])
        except SimulationStartedError:
            code = None
    if code is not None:
        assert code == 2, (out, err.getvalue())
        _one_line(err.getvalue())
    assert _tree(fuzz_dir) == before, out


def test_a_calibration_history_emptied_by_a_power_cut_starts_again_and_a_damaged_one_is_kept(
        workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from sim.calibration.smc import read_generations

    db = workdir / "abc.db"
    db.write_bytes(b"")
    assert read_generations(db) == [] and not db.exists()
    assert "was empty" in capsys.readouterr().err
    db.write_bytes(b"SQLite format 3\0" + b"\x13" * 2000)  # a header, then garbage: hours of work, perhaps
    with pytest.raises(InputError, match=r"cannot be read.*--fresh"):
        read_generations(db)
    assert db.stat().st_size == 2016


# -- the optimiser's journal ---------------------------------------------------------------------------------------


def test_a_journal_record_cut_by_a_kill_and_a_stale_lock_are_cleared(workdir: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from sim.store import claim, prepare_journal

    out = workdir / "o"
    out.mkdir()
    journal = out / "study.optuna.log"
    journal.write_bytes(b'{"op_code": 0}\n{"op_code": 4, "trial_id": 3, "sta')
    (out / "study.optuna.log.lock").write_text("", encoding="utf-8")
    prepare_journal(journal)
    assert journal.read_bytes() == b'{"op_code": 0}\n' and "cut short" in capsys.readouterr().err
    assert (out / "study.optuna.log.lock").exists()  # not ours to remove while the folder is not claimed
    claim(out)
    prepare_journal(journal)
    assert not (out / "study.optuna.log.lock").exists() and journal.read_bytes() == b'{"op_code": 0}\n'


def test_a_second_optimiser_on_the_same_folder_is_refused(workdir: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    import sim.jobs.optimise

    monkeypatch.setattr(sim.jobs.optimise, "_search_and_confirm",
                        lambda cfg, *a, **k: sim.jobs.optimise.OptimiseResult(cfg.out, {}, ""))
    assert main(["optimise", "--budget", "3e6", "--out", "o"]) == 0
    hold = subprocess.Popen([sys.executable, "-c", "import time; from sim.store import claim; claim('o'); "
                             "print('holding', flush=True); time.sleep(120)"], cwd=workdir, stdout=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert hold.stdout is not None and hold.stdout.readline().strip() == "holding"
        capsys.readouterr()
        assert main(["optimise", "--budget", "3e6", "--out", "o"]) == 2
        _one_line(capsys.readouterr().err, "another convsim command is writing", f"pid {hold.pid}")
    finally:
        hold.kill()
        hold.wait()
    assert main(["optimise", "--budget", "3e6", "--out", "o"]) == 0


# -- an optimisation killed with SIGKILL, resumed: the uninterrupted study, trial for trial ---------------------------


OPTIMISE = ["optimise", "--budget", "3e6", "--reps", "9", "--trials", "40", "--confirm-reps", "2", "--quiet"]

KILL_OPTIMISER = textwrap.dedent("""
    import os, signal, sys
    from sim.optimise.evaluate import Evaluator
    what, n = sys.argv[1], int(sys.argv[2])
    def killing(cls, name):
        real = getattr(cls, name)
        def call(*a, **k):
            global n
            n -= 1
            if n == 0:
                os.kill(os.getpid(), signal.SIGKILL)
            return real(*a, **k)
        setattr(cls, name, call)
    if what == "rung":  # the n-th rung of a trial, evaluated: a trial under way
        killing(Evaluator, "gather_many")
    else:  # inside Optuna's lock, appending to the journal: the lock left behind
        from optuna.storages.journal import JournalFileBackend
        real_append = JournalFileBackend.append_logs
        def append(self, logs):
            global n
            n -= 1
            if n == 0:
                self._lock.acquire()
                os.kill(os.getpid(), signal.SIGKILL)
            return real_append(self, logs)
        JournalFileBackend.append_logs = append
    from sim.cli import main
    sys.exit(main(sys.argv[3:]))
""")


def _study(folder: Path) -> list[tuple[object, ...]]:
    """The finished trials of the folder's study, in order: tag, parameters, reported values, state."""
    import optuna
    from optuna.storages.journal import JournalFileBackend

    storage = optuna.storages.JournalStorage(JournalFileBackend(str(folder / "study.optuna.log")))
    (name,) = optuna.get_all_study_names(storage)
    trials = optuna.load_study(study_name=name, storage=storage).get_trials(
        states=(optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED))
    return [(t.user_attrs["tag"], t.params, t.intermediate_values, t.value, t.state) for t in trials]


@pytest.mark.slow  # 11–18 s measured on the shared 2-core machine: at the edge of the quick path's 20 s
def test_an_optimisation_killed_and_resumed_is_the_uninterrupted_one(workdir: Path, monkeypatch: pytest.MonkeyPatch,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """SIGKILL in a planned trial, in a TPE trial, and while holding Optuna's journal lock; each resumed run gives
    the uninterrupted study trial for trial (the same trial counts) and the same answer, without waiting on the
    lock the killed process left (Optuna would wait 30 s, sleeping: here a sleep fails the test)."""
    from optuna.storages.journal import _file

    assert main([*OPTIMISE, "--out", "whole"]) == 0
    whole, answer = _study(workdir / "whole"), json.loads((workdir / "whole" / "result.json").read_text("utf-8"))
    assert {s for *_, s in whole} == {_state("COMPLETE"), _state("PRUNED")}  # successive halving at work
    for what, n in (("rung", 30), ("rung", 100), ("append", 150)):
        out = f"cut-{what}-{n}"
        done = subprocess.run([sys.executable, "-c", KILL_OPTIMISER, what, str(n), *OPTIMISE, "--out", out],
                              cwd=workdir, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
                              timeout=600)
        assert done.returncode == -signal.SIGKILL, done.stderr
        assert not (workdir / out / "result.json").exists()
        if what == "append":
            assert os.path.lexists(workdir / out / "study.optuna.log.lock")
        with monkeypatch.context() as m:
            m.setattr(_file.time, "sleep", _no_wait)
            assert main([*OPTIMISE, "--out", out]) == 0
        assert _study(workdir / out) == whole, (what, n)
        again = json.loads((workdir / out / "result.json").read_text("utf-8"))
        for key in ("mix", "search", "delta_mean", "delta_lo", "delta_hi", "best_shipped_id"):
            assert again[key] == answer[key], (what, n, key)
        assert not [p.name for p in (workdir / out).iterdir() if ".lock" in p.name]


def _state(name: str) -> object:
    import optuna

    return optuna.trial.TrialState[name]


def _no_wait(seconds: float) -> None:
    raise AssertionError(f"waited {seconds} s on the journal's lock")


KILL_TOY_SEARCH = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    import optuna
    from sim.optimise.search import Search, SearchConfig
    from tests.test_optimise import ToyEvaluator, _toy_space
    n = int(sys.argv[1])
    real = optuna.Study.tell
    def tell(self, *a, **k):
        global n
        n -= 1
        if n == 0:  # between two tells of one batch: some of its trials told, the rest left running
            os.kill(os.getpid(), signal.SIGKILL)
        return real(self, *a, **k)
    optuna.Study.tell = tell
    sp = _toy_space()
    Search(sp, ToyEvaluator(sp), SearchConfig(2e6, 27, 40, 0, "industrialised", batch=4), Path(sys.argv[2])).run()
""")


@pytest.mark.parametrize("tell", [7, 23])
def test_a_batch_killed_between_its_tells_is_finished_with_the_same_trials(workdir: Path, tell: int) -> None:
    """Batches of 4 (toy objective): a kill after some of a batch's trials were told leaves the rest running; the
    resumed search evaluates that rest with the same parameters, judged as then, before asking anything new."""
    import optuna

    from sim.optimise.search import Search, SearchConfig
    from tests.test_optimise import ToyEvaluator, _toy_space

    def search(folder: Path) -> Search:
        folder.mkdir(exist_ok=True)
        sp = _toy_space()
        return Search(sp, ToyEvaluator(sp), SearchConfig(2e6, 27, 40, 0, "industrialised", batch=4),
                      folder / "study.log")

    done = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    whole = search(workdir / "whole")
    answer = whole.run()
    (workdir / "cut").mkdir()
    killed = subprocess.run([sys.executable, "-c", KILL_TOY_SEARCH, str(tell), str(workdir / "cut" / "study.log")],
                            cwd=workdir, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
                            timeout=600)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    again = search(workdir / "cut")
    assert again.study.get_trials(states=(optuna.trial.TrialState.RUNNING,)) == []  # the killed process's: failed
    resumed = again.run()
    assert ([(t.params, t.intermediate_values, t.state) for t in again.study.get_trials(states=done)]
            == [(t.params, t.intermediate_values, t.state) for t in whole.study.get_trials(states=done)])
    assert (resumed.best_mix, resumed.complete, resumed.pruned, resumed.best_trial) == (
        answer.best_mix, answer.complete, answer.pruned, answer.best_trial)


KILL_RUN_IN_A_MOUNT_SWAP = textwrap.dedent("""
    import os, signal, sys
    import sim.store as s
    real, n = s._move, [4]
    def move(a, b):
        n[0] -= 1
        if n[0] == 0:  # the old output's three entries are aside: the first new one is about to go in
            os.kill(os.getpid(), signal.SIGKILL)
        real(a, b)
    s._move = move
    from sim.cli import main
    sys.exit(main(["run", "scenarios/baseline.toml", "--reps", "3", "--quiet", "--out", "m"]))
""")


def test_a_run_killed_mid_swap_on_a_mount_point_then_the_next_run(workdir: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    m = workdir / "m"
    _mount_tmpfs(m, "8m")
    assert main([*RUN, "--out", "m"]) == 0
    (m / "notes.txt").write_text("mine", encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", KILL_RUN_IN_A_MOUNT_SWAP], cwd=workdir, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=600)
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert not (m / "records.parquet").exists() and (m / ".convsim-swap.json").is_file()  # caught in between
    capsys.readouterr()
    assert main(["run", "scenarios/baseline.toml", "--reps", "4", "--quiet", "--out", "m"]) == 0
    err = capsys.readouterr().err
    assert "completed the replacement of the output in" in err and "replacing the earlier convsim output" in err
    assert pd.read_parquet(m / "records.parquet")["rep"].nunique() == 4
    assert (m / "notes.txt").read_text(encoding="utf-8") == "mine" and _hidden(m) == [MARKER]


@pytest.mark.parametrize("record", ["{\"phase\": \"in\", \"new\": ", json.dumps(
    {"phase": "in", "new": ".convsim-swap.new.abcdefgh", "old": ".convsim-swap.old.abcdefgh",
     "old_entries": ["../elsewhere"], "new_entries": []})])
def test_a_swap_record_that_cannot_be_trusted_is_one_line_and_nothing_moves(workdir: Path, record: str,
                                                                           no_work: None,
                                                                           capsys: pytest.CaptureFixture[str]) -> None:
    m = workdir / "m"
    _mount_tmpfs(m, "8m")
    with atomic_folder(m, kind="run") as tmp:
        (tmp / "records.parquet").write_text("old", encoding="utf-8")
    (m / ".convsim-swap.json").write_text(record, encoding="utf-8")
    (workdir / "elsewhere").write_text("not convsim's", encoding="utf-8")
    before = _tree(workdir)
    capsys.readouterr()
    assert main([*RUN, "--out", "m"]) == 2
    _one_line(capsys.readouterr().err, ".convsim-swap.json", "cannot be read", "will not guess")
    assert _tree(workdir) == before
