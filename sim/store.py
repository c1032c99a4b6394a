"""Where results go: output folders convsim owns, written atomically.

The one rule: **convsim never deletes or overwrites anything it did not
write.** Every output folder it makes carries a marker file
(:data:`MARKER`) that lists what it wrote there (exact names, and patterns
for folders that grow, such as a sweep's per-point parts). So:

- a new path, or an existing *empty* folder, may be used;
- an existing folder with the marker is an earlier convsim output and may be
  replaced — but only if every file in it is one convsim listed; a file a
  user added (notes, a figure of their own) makes convsim refuse;
- any other existing folder (the working directory, ``runs`` holding other
  runs, a folder of the user's) is refused, and so is a path that contains
  the working directory or lies below an existing file.

:func:`check_output_dir` says all this *before* any simulation, as one line
(:class:`~sim.errors.InputError`); :func:`atomic_folder` checks again when it
swaps the finished folder into place, so a file added meanwhile is not lost.
Writes are atomic: a folder is built beside its destination and renamed; a
file is written under a temporary name and renamed. An interrupted command
leaves the old result or the new one, never half of one.
"""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from sim.errors import InputError

#: The marker file inside every output folder convsim writes.
MARKER = ".convsim-output.json"

Kind = Literal["run", "compare", "sweep", "calibrate", "optimise", "levers", "targets"]
State = Literal["new", "empty", "replace", "resume"]


def _marker(path: Path) -> dict | None:
    """The folder's marker, or None when it has none (or an unreadable one)."""
    m = path / MARKER
    if not m.is_file():
        return None
    try:
        data = json.loads(m.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("written_by") == "convsim" else None


def _files(path: Path) -> Iterator[str]:
    """Every file below ``path``, as a relative POSIX path."""
    for root, _, names in os.walk(path):
        for n in names:
            yield (Path(root) / n).relative_to(path).as_posix()


def foreign_files(path: Path) -> list[str]:
    """Files in a convsim output folder that its marker does not list (a user's files)."""
    m = _marker(path)
    if m is None:
        return sorted(_files(path))
    exact = set(m.get("files", [])) | {MARKER}
    patterns = list(m.get("patterns", []))
    return sorted(f for f in _files(path) if f not in exact and not any(fnmatch.fnmatchcase(f, p) for p in patterns))


def _refuse_foreign(path: Path, option: str, shown: Path | None = None) -> None:
    foreign = foreign_files(path)
    if foreign:
        more = f" and {len(foreign) - 1} more" if len(foreign) > 1 else ""
        raise InputError(f"{shown or path}: {option} holds files convsim did not write ({foreign[0]}{more}); "
                         "convsim never deletes them: move them or choose another folder")


def check_output_dir(path: str | Path, option: str = "--out", kinds: Iterable[str] | None = None) -> State:
    """Check, before any work, that convsim may write the folder ``path``; say how.

    Returns ``"new"`` (nothing there yet), ``"empty"`` (an empty folder) or
    ``"replace"`` (an earlier convsim output, every file of which convsim
    wrote). ``kinds``: the kinds of earlier output this command may replace
    (default: any). Raises :class:`InputError` otherwise: the path is a file,
    lies below a file, contains the working directory, cannot be written, or
    holds files convsim did not write.
    """
    p = Path(path)
    full = p.resolve()
    cwd = Path.cwd().resolve()
    if full == cwd or full in cwd.parents:
        raise InputError(f"{p}: {option} would replace the folder you are working in (or one that holds it); "
                         "give a new or empty folder, e.g. runs/<name>")
    if full == Path.home().resolve() or full == Path(full.anchor):
        raise InputError(f"{p}: {option} may not be your home folder or the file system's root")
    existing = next(a for a in (full, *full.parents) if a.exists())
    if not existing.is_dir():
        if existing == full:
            raise InputError(f"{p}: {option} must be a folder, and this is an existing file")
        raise InputError(f"{p}: {option} lies below {existing}, which is a file, not a folder")
    _probe_writable(existing, p, option)
    if existing != full:
        return "new"
    if not any(full.iterdir()):
        return "empty"
    m = _marker(full)
    if m is None:
        raise InputError(f"{p}: {option} is a folder that holds files convsim did not write; convsim never "
                         "deletes or overwrites them: choose a new or empty folder")
    allowed = set(kinds) if kinds is not None else None
    if allowed is not None and m.get("kind") not in allowed:
        raise InputError(f"{p}: {option} holds the output of `convsim {m.get('kind')}`, not of "
                         f"`convsim {'/'.join(sorted(allowed))}`; choose another folder")
    _refuse_foreign(full, option, p)
    return "replace"


def _probe_writable(folder: Path, shown: Path, option: str) -> None:
    """Create and remove a file in ``folder`` (``os.access`` says yes to root even where it cannot write)."""
    try:
        fd, name = tempfile.mkstemp(prefix=".convsim-probe.", dir=folder)
    except OSError as exc:
        raise InputError(f"{shown}: {option}: cannot write in {folder} ({exc.strerror or exc})") from None
    os.close(fd)
    os.unlink(name)


def check_output_file(path: str | Path, option: str, is_ours: Callable[[Path], bool] | None = None) -> None:
    """Check, before any work, that convsim may write the file ``path``.

    An existing file is overwritten only if ``is_ours(path)`` recognises it as
    one convsim wrote (e.g. by its header); a folder, a path below a file or an
    unwritable place is refused.
    """
    p = Path(path)
    full = p.resolve()
    if full.is_dir():
        raise InputError(f"{p}: {option} is a folder; give a file name")
    existing = next(a for a in (full.parent, *full.parent.parents) if a.exists())
    if not existing.is_dir():
        raise InputError(f"{p}: {option} lies below {existing}, which is a file, not a folder")
    _probe_writable(existing, p, option)
    if full.exists() and not (is_ours is not None and is_ours(full)):
        raise InputError(f"{p}: {option} is an existing file convsim did not write; convsim never "
                         "overwrites it: choose another name")


def write_marker(folder: Path, kind: str, files: Iterable[str] = (), patterns: Iterable[str] = ()) -> None:
    """Write the marker that says convsim owns ``folder`` and which files in it are its own."""
    data = {"written_by": "convsim", "kind": kind, "files": sorted(set(files) - {MARKER}),
            "patterns": list(patterns), "written_utc": datetime.now(UTC).isoformat(timespec="seconds")}
    with atomic_file(folder / MARKER) as tmp:
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


def add_to_marker(folder: Path, files: Iterable[str]) -> None:
    """Add files convsim has just written to an existing folder's marker."""
    m = _marker(folder)
    if m is None:
        raise InputError(f"{folder}: not a convsim output folder (no {MARKER})")
    write_marker(folder, m["kind"], [*m.get("files", []), *files], m.get("patterns", []))


def remove_output(folder: Path, option: str = "--out") -> None:
    """Delete an earlier convsim output folder — refused if it holds anything convsim did not write."""
    if _marker(folder) is None:
        raise InputError(f"{folder}: {option} is not a convsim output folder; convsim never deletes it")
    _refuse_foreign(folder, option)
    shutil.rmtree(folder)


@contextmanager
def atomic_folder(out_dir: str | Path, kind: str = "run", patterns: Iterable[str] = (),
                  option: str = "--out") -> Iterator[Path]:
    """Yield an empty temporary folder beside ``out_dir``; on success it becomes ``out_dir``.

    What is in the temporary folder when the block ends is listed in the
    marker (with ``patterns`` for files added later). An existing ``out_dir``
    is replaced only if it is empty or a convsim output holding nothing else
    (checked again here, at the moment of the swap). On any error or an
    interrupt the temporary folder is removed and ``out_dir`` is left as it was.
    """
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.new.", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; the result should look like any new folder
    try:
        yield tmp
        write_marker(tmp, kind, _files(tmp), patterns)
        if out.exists():
            if not out.is_dir():
                raise InputError(f"{out}: {option} is an existing file")
            if any(out.iterdir()):
                if _marker(out) is None:
                    raise InputError(f"{out}: {option} is a folder that holds files convsim did not write; "
                                     "nothing was replaced")
                _refuse_foreign(out, option)
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
            os.replace(out, old)  # onto the empty folder just made: a rename, on POSIX
            os.replace(tmp, out)
            shutil.rmtree(old)
        else:
            os.replace(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def atomic_file(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` (same suffix); on success it replaces ``path``.

    Readers see the old file or the new one, never half of one; on an error or
    an interrupt the temporary file is removed.
    """
    p = Path(path)
    tmp = p.with_name(f".{p.stem}.{os.getpid()}.tmp{p.suffix}")
    try:
        yield tmp
        os.replace(tmp, p)
    finally:
        tmp.unlink(missing_ok=True)
