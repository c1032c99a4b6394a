"""Where results go: output folders convsim owns, written atomically.

The one rule: **convsim never deletes, replaces or hides anything it did not
write.** Every output folder it makes carries a marker file (:data:`MARKER`)
that says which command made it (its *kind*) and lists what it wrote there:
exact names, and patterns for folders that grow, such as a sweep's
per-point parts. A pattern is matched one path component at a time, so
``frontier-*`` matches ``frontier-a.csv`` in the folder itself, never
``frontier-x/notes.md`` below it. So:

- a new path, or an existing *empty* folder, may be used;
- an existing folder with the marker is an earlier convsim output and may be
  replaced by the same command — but only if every entry in it is one
  convsim listed; a file, a symbolic link or an empty folder a user added
  makes convsim refuse;
- the output of another command (a calibration's history, a sweep) is never
  replaced by a different command;
- any other existing folder (the working directory, ``runs`` holding other
  runs, a folder of the user's) is refused, and so is a path that contains
  the working directory, lies below an existing file, is a dangling symbolic
  link, cannot be written, or has a name longer than the file system allows.

A **mount point** cannot be renamed, so an earlier output there is replaced
by swapping its *contents* (:func:`_mount_swap`): the new output is built in a
hidden staging folder inside the mount, then convsim's old entries are moved
aside into another hidden folder and the new ones moved in, each step recorded
in ``.convsim-swap.json`` so that the next command on the same output finishes
an interrupted swap (or undoes it), never leaving neither output. Only entries
convsim wrote are moved: the user's own things beside them (and a file
system's ``lost+found``) stay where they are.

A symbolic link is followed: the output goes where it points and the link
itself is never moved. :func:`check_output_dir` says all this *before* any
simulation, as one line (:class:`~sim.errors.InputError`), and claims the
folder for this process, so a second command writing the same folder is
refused with a line naming the one that is running (:func:`writer`).
:func:`atomic_folder` checks again when it swaps the finished folder into
place, so a file added meanwhile is not lost. The swap is one atomic
exchange of the two folders (Linux ``renameat2(RENAME_EXCHANGE)``); where
that is not available, an interrupted two-step swap is undone by the next
command on the same output. A file is written under a temporary name and
renamed; several files that belong together (:func:`atomic_files`) are all
written before any is renamed into place.

Failing to write — a full disk, an I/O error, a file system turned
read-only — is a :class:`WriteError`: one line naming the file and the
reason, exit status :data:`EX_IOERR` on the command line (distinct from bad
input's 2), the earlier output intact and nothing half-written left.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import fnmatch
import hashlib
import json
import os
import re
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from sim.errors import InputError

#: The marker file inside every output folder convsim writes.
MARKER = ".convsim-output.json"
#: The record, in a folder convsim does not own, of the single files it wrote there (trace, export).
WRITTEN = ".convsim-written.json"
#: Exit status of a command that could not write its results (``EX_IOERR`` of BSD's sysexits.h).
EX_IOERR = 74
#: What a temporary file of :func:`atomic_file` left by a hard kill looks like (``.NAME.PID.tmp.EXT``), for markers.
TEMP_PATTERN = ".*.[0-9]*.tmp*"

Kind = Literal["run", "compare", "sweep", "calibrate", "optimise", "levers", "targets"]
State = Literal["new", "empty", "replace", "resume"]


class WriteError(Exception):
    """convsim could not write a result (full disk, I/O error); the message is one line naming the file."""


def report_os_error(exc: OSError) -> int:
    """The command line's last word on an OS error no check caught (most often stdout on a full device): one line on
    stderr, stdout detached so the interpreter's final flush cannot add a traceback; returns :data:`EX_IOERR`."""
    where = f"{exc.filename}" if exc.filename else ("standard output" if _stdout_failed() else "its output")
    try:
        print(f"convsim: error: could not write {where}: {exc.strerror or exc}", file=sys.stderr)
    except OSError:
        pass
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return EX_IOERR


def _stdout_failed() -> bool:
    try:
        sys.stdout.flush()
    except OSError:
        return True
    return False


# -- what in a folder is convsim's ------------------------------------------------------------------------------


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


def _match(rel: str, pattern: str) -> bool:
    """Whether the relative path ``rel`` matches ``pattern`` component by component (``*`` never crosses ``/``)."""
    parts, pats = rel.split("/"), pattern.split("/")
    return len(parts) == len(pats) and all(fnmatch.fnmatchcase(a, p) for a, p in zip(parts, pats, strict=True))


def _prefix(rel: str, pattern: str) -> bool:
    """Whether the folder ``rel`` is one of the folders a file matching ``pattern`` (or named so) lies in."""
    parts, pats = rel.split("/"), pattern.split("/")
    return len(parts) < len(pats) and all(fnmatch.fnmatchcase(a, p) for a, p in zip(parts, pats, strict=False))


@dataclass(frozen=True)
class Entry:
    """Something in a folder that is not simply a folder holding other things."""

    rel: str
    what: Literal["file", "link", "empty folder", "special file"]

    def __str__(self) -> str:
        return {"file": self.rel, "link": f"{self.rel} (a symbolic link)", "empty folder": f"{self.rel}/ (an empty "
                "folder)", "special file": f"{self.rel} (a special file)"}[self.what]


def _entries(path: Path) -> Iterator[Entry]:
    """Every file, symbolic link, special file and empty folder below ``path`` (links are not followed)."""
    for root, dirs, names in os.walk(path):
        here = Path(root)
        for d in list(dirs):
            if (here / d).is_symlink():
                dirs.remove(d)  # os.walk lists a link to a folder among the folders; it is an entry of its own
                yield Entry((here / d).relative_to(path).as_posix(), "link")
        for n in names:
            p = here / n
            what: Literal["file", "link", "special file"] = (
                "link" if p.is_symlink() else "file" if p.is_file() else "special file")
            yield Entry(p.relative_to(path).as_posix(), what)
        if not dirs and not names and here != path:
            yield Entry(here.relative_to(path).as_posix(), "empty folder")


def _files(path: Path) -> Iterator[str]:
    """Every regular file below ``path``, as a relative POSIX path."""
    return (e.rel for e in _entries(path) if e.what == "file")


def foreign_entries(path: Path) -> list[Entry]:
    """What in a convsim output folder its marker does not list: a user's files, links, empty folders."""
    m = _marker(path)
    entries = list(_entries(path))
    if m is None:
        return sorted(entries, key=lambda e: e.rel)
    exact = set(m.get("files", [])) | {MARKER}
    patterns = [*exact, *m.get("patterns", [])]

    def ours(e: Entry) -> bool:
        if e.what == "file":
            return e.rel in exact or any(_match(e.rel, p) for p in patterns)
        if e.what == "empty folder":  # a folder convsim makes to hold its files, left empty by an interruption
            return any(_prefix(e.rel, p) for p in patterns)
        return False  # convsim writes no links or special files: they are the user's

    return sorted((e for e in entries if not ours(e)), key=lambda e: e.rel)


def foreign_files(path: Path) -> list[str]:
    """Relative paths of :func:`foreign_entries` (folders end in ``/``)."""
    return [e.rel + ("/" if e.what == "empty folder" else "") for e in foreign_entries(path)]


def _refuse_foreign(path: Path, option: str, shown: Path | None = None) -> None:
    foreign = foreign_entries(path)
    if foreign:
        more = f" and {len(foreign) - 1} more" if len(foreign) > 1 else ""
        raise InputError(f"{shown or path}: {option} holds things convsim did not write ({foreign[0]}{more}); "
                         "convsim never deletes them: move them or choose another folder")


# -- paths as the file system presents them ---------------------------------------------------------------------


def _name_max(folder: Path) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


def _exists(p: Path) -> bool:
    try:
        return p.exists()
    except OSError:
        return False


def _check_path(p: Path, option: str) -> Path:
    """The real place ``p`` names (links followed); InputError for a dangling link, a loop or an over-long name."""
    if str(p) == "":
        raise InputError(f"{option}: an empty path; give a folder or file name")
    absolute = Path(os.path.abspath(p))
    for part in absolute.parts:  # before any look-up: the system refuses a too-long name with an error, not False
        n = len(os.fsencode(part))
        if n > 255 or n > _name_max(next((a for a in absolute.parents if _exists(a)), Path(absolute.anchor))):
            raise InputError(f"{p}: {option}: the name {part[:24]}… is {n} bytes long; this file system allows "
                             f"at most {_name_max(Path(absolute.anchor))}")
    for a in (absolute, *absolute.parents):
        if os.path.islink(a) and not _exists(a):
            raise InputError(f"{p}: {option}: {a} is a symbolic link to {os.readlink(a)}, which does not exist "
                             "(or is a loop of links); create its target or give another path")
    try:
        return p.resolve()
    except (OSError, RuntimeError) as exc:  # RuntimeError: a loop of links, on Python before 3.13
        raise InputError(f"{p}: {option}: cannot follow this path ({exc})") from None


def _probe_writable(folder: Path, shown: Path, option: str) -> None:
    """Create and remove a file in ``folder`` (``os.access`` says yes to root even where it cannot write)."""
    try:
        fd, name = tempfile.mkstemp(prefix=".convsim-probe.", dir=folder)
    except OSError as exc:
        raise InputError(f"{shown}: {option}: cannot write in {folder} ({exc.strerror or exc})") from None
    os.close(fd)
    os.unlink(name)


def check_output_dir(path: str | Path, option: str = "--out", kinds: Iterable[str] | None = None,
                     claim: bool = True) -> State:
    """Check, before any work, that convsim may write the folder ``path``; say how.

    Returns ``"new"`` (nothing there yet), ``"empty"`` (an empty folder) or
    ``"replace"`` (an earlier convsim output of one of ``kinds``, every entry
    of which convsim wrote). ``kinds``: the commands whose earlier output may
    be replaced (``None``: any kind). Raises :class:`InputError` otherwise: the
    path is a file, lies below a file, contains the working directory, is a
    dangling link, cannot be written, has too long a name, holds another
    command's output or things convsim did not write (in a mount point: inside
    convsim's own folders; the user's entries beside them stay). With
    ``claim`` the folder is also claimed for this process (:func:`writer`);
    another process writing it makes this an :class:`InputError`.
    """
    p = Path(path)
    full = _check_path(p, option)
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
    # where convsim will make its temporary folder: beside the output, or inside it if it is a mount point
    inside = existing == full and os.path.ismount(full)
    _probe_writable(full if inside else existing if existing != full else full.parent, p, option)
    newly = claim and full not in _LOCKS
    if claim:
        _claim(full, p, option)
    try:
        return _state(full, p, option, kinds, claim)
    except BaseException:
        if newly:
            _release(full)  # refused: the folder is not ours to hold
        raise


def _state(full: Path, p: Path, option: str, kinds: Iterable[str] | None, recover: bool) -> State:
    if recover:
        _recover(full)
    if not full.exists():
        return "new"
    mount = os.path.ismount(full)
    if _is_empty(full, mount):
        return "empty"
    _probe_writable(full, p, option)
    m = _marker(full)
    if m is None:
        raise InputError(f"{p}: {option} is a folder that holds files convsim did not write; convsim never "
                         "deletes or overwrites them: choose a new or empty folder")
    allowed = set(kinds) if kinds is not None else None
    if allowed is not None and m.get("kind") not in allowed:
        raise InputError(f"{p}: {option} holds the output of `convsim {m.get('kind')}`, which "
                         f"`convsim {'/'.join(sorted(allowed))}` never replaces; choose another folder, or delete "
                         "it yourself if you no longer need it")
    if mount:
        _mount_entries(full, option, p)
    else:
        _refuse_foreign(full, option, p)
    return "replace"


def _is_empty(full: Path, mount: bool) -> bool:
    """Whether a folder holds nothing (a mount point: nothing but its file system's ``lost+found``)."""
    return not any(q for q in full.iterdir() if not (mount and q.name == "lost+found"))


def check_output_file(path: str | Path, option: str, is_ours: Callable[[Path], bool] | None = None) -> None:
    """Check, before any work, that convsim may write the file ``path``.

    An existing file is overwritten only if convsim recorded writing it
    exactly as it is now (:func:`written_by_convsim`) or ``is_ours(path)``
    recognises it by a mark only convsim writes; a folder, a link, a path
    below a file, an over-long name or an unwritable place is refused.
    """
    p = Path(path)
    full = _check_path(p, option)
    if full.is_dir():
        raise InputError(f"{p}: {option} is a folder; give a file name")
    if os.path.islink(p):
        raise InputError(f"{p}: {option} is a symbolic link; convsim never replaces it: give the file's own name")
    existing = next(a for a in (full.parent, *full.parent.parents) if a.exists())
    if not existing.is_dir():
        raise InputError(f"{p}: {option} lies below {existing}, which is a file, not a folder")
    _probe_writable(existing, p, option)
    if full.exists() and not (written_by_convsim(full) or (is_ours is not None and is_ours(full))):
        raise InputError(f"{p}: {option} is an existing file convsim did not write (or one changed since); "
                         "convsim never overwrites it: choose another name, or move it")


# -- single files convsim wrote into someone else's folder -------------------------------------------------------


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _written(folder: Path) -> dict[str, str]:
    try:
        data = json.loads((folder / WRITTEN).read_text(encoding="utf-8"))
        files = data.get("files", {}) if isinstance(data, dict) and data.get("written_by") == "convsim" else {}
        return {str(k): str(v) for k, v in files.items()} if isinstance(files, dict) else {}
    except (OSError, ValueError):
        return {}


def written_by_convsim(path: Path) -> bool:
    """Whether convsim recorded writing ``path`` and it is still byte for byte what convsim wrote."""
    want = _written(path.parent).get(path.name)
    try:
        return want is not None and path.is_file() and not path.is_symlink() and _digest(path) == want
    except OSError:
        return False


def _record_written(folder: Path, names: Iterable[str]) -> None:
    files = _written(folder)
    files.update({n: _digest(folder / n) for n in names})
    files = {n: d for n, d in files.items() if (folder / n).is_file()}
    with atomic_file(folder / WRITTEN) as tmp:
        tmp.write_text(json.dumps({"written_by": "convsim", "files": dict(sorted(files.items()))}, indent=1),
                       encoding="utf-8")


# -- one writer per folder ----------------------------------------------------------------------------------------


@dataclass
class _Lock:
    fd: int
    path: Path
    holds: int = 0


_LOCKS: dict[Path, _Lock] = {}


def lock_file(full: Path) -> Path:
    """Where the writer's lock of the output folder ``full`` (resolved) lives: outside it and outside the user's
    folders (in ``$XDG_RUNTIME_DIR`` or the system's temporary folder), so no lock file is ever left beside it."""
    name = hashlib.sha256(os.fsencode(full)).hexdigest()[:32] + ".lock"
    for place in (os.environ.get("XDG_RUNTIME_DIR"), tempfile.gettempdir()):
        if not place:
            continue
        base = Path(place) / f"convsim-locks-{os.getuid()}"
        try:
            base.mkdir(mode=0o700, exist_ok=True)
        except OSError:
            continue
        if base.is_dir() and not base.is_symlink() and base.stat().st_uid == os.getuid():
            return base / name
    raise InputError(f"{full}: convsim cannot make its lock folder (in $XDG_RUNTIME_DIR or {tempfile.gettempdir()}), "
                     "which keeps two commands from writing one folder; set TMPDIR to a folder you can write")


def _claim(full: Path, shown: Path, option: str) -> _Lock:
    """Take (or re-take, in this process) the writer's lock of ``full``; InputError naming the holder if taken."""
    if full in _LOCKS:
        return _LOCKS[full]
    lp = lock_file(full)
    while True:
        fd = os.open(lp, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                holder = os.read(fd, 4096).decode("utf-8", "replace").strip() or "another process"
            finally:
                os.close(fd)
            raise InputError(f"{shown}: {option}: another convsim command is writing this folder ({holder}); "
                             "wait for it to finish or choose another folder") from None
        try:  # the holder before us may have removed the file after we opened it: lock the file on disk
            same = os.fstat(fd).st_ino == os.stat(lp).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    os.ftruncate(fd, 0)
    command = " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]) if sys.argv else "python"
    os.write(fd, f"pid {os.getpid()}: {command}"[:400].encode("utf-8", "replace"))
    lock = _LOCKS[full] = _Lock(fd, lp)
    return lock


def _release(full: Path) -> None:
    lock = _LOCKS.pop(full, None)
    if lock is not None:
        lock.path.unlink(missing_ok=True)  # while still held: a waiting opener sees a new file and re-locks
        os.close(lock.fd)


def claim(path: str | Path, option: str = "--out") -> None:
    """Claim the output folder ``path`` for this process until it ends (a command that writes in place, such as
    the optimiser's resumable study); another process writing it makes this an :class:`InputError` naming it."""
    _claim(Path(path).resolve(), Path(path), option)


def holds(path: str | Path) -> bool:
    """Whether this process holds the writer's lock of the output folder ``path``."""
    return Path(path).resolve() in _LOCKS


def prepare_journal(path: Path, say: Callable[[str], None] | None = None) -> None:
    """Make an append-only journal (the optimiser's study) safe to continue after a crash or power loss.

    A last line cut short by a kill is removed (it is an unfinished record; appending after it would join two
    records into one unreadable line), and said. Optuna's lock, ``<journal>.lock`` (a symbolic link it makes
    while appending, and waits 30 s on before taking it over), left by a killed process is removed at once, and
    so is ``<journal>.lock<uuid>.rename``, what a kill in the middle of Optuna's two-step release leaves — only
    when this process holds the folder's writer lock, so no other writer can hold them.
    """
    say = say or (lambda m: print(f"convsim: {m}", file=sys.stderr))
    if path.is_file() and path.stat().st_size > 0:
        with path.open("rb+") as f:
            f.seek(-1, os.SEEK_END)
            if f.read(1) != b"\n":
                f.seek(0)
                data = f.read()
                keep = data.rfind(b"\n") + 1
                f.truncate(keep)
                say(f"{path}: its last record was cut short ({len(data) - keep} bytes, a run killed while "
                    "writing?); removed, the trial will run again")
    if not holds(path.parent):
        return
    lock = path.name + ".lock"
    released = re.compile(re.escape(lock) + r"[0-9a-f-]{36}\.rename")
    for q in path.parent.iterdir():
        if (q.name == lock or released.fullmatch(q.name)) and (q.is_symlink() or q.is_file()):
            q.unlink()


@contextmanager
def writer(path: str | Path, option: str = "--out") -> Iterator[None]:
    """Hold the writer's lock of the output folder ``path`` for the block.

    One writer per folder: a second process is refused at once (with a line
    naming the command that holds it) — at its :func:`check_output_dir`,
    before any work. Within a process the lock is re-entrant; it is let go
    when the outermost block ends (a claim by :func:`check_output_dir` alone
    lasts until then, or until the process ends). The operating system lets
    go of it however a process ends.
    """
    full = Path(path).resolve()
    lock = _claim(full, Path(path), option)
    lock.holds += 1
    try:
        yield
    finally:
        lock.holds -= 1
        if lock.holds <= 0:
            _release(full)


# -- swapping folders ---------------------------------------------------------------------------------------------


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths in one atomic step (Linux ``renameat2``); False where the system cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _short(name: str) -> str:
    """``name``, or for a long one its start and a digest: temporary names stay within the file system's limit."""
    return name if len(name) <= 64 else f"{name[:40]}-{hashlib.sha256(os.fsencode(name)).hexdigest()[:12]}"


def _temp_re(full: Path, what: str) -> re.Pattern[str]:
    return re.compile(re.escape(f".{_short(full.name)}.{what}.") + r"[A-Za-z0-9_]{8}$")


def _recover(full: Path, say: Callable[[str], None] | None = None) -> None:
    """Undo what an interrupted command left beside ``full``: restore an earlier output hidden by a two-step swap
    cut between its steps, and remove temporary folders convsim made. Call with the folder's writer lock held."""
    say = say or (lambda m: print(f"convsim: {m}", file=sys.stderr))
    if os.path.ismount(full):
        _recover_mount(full, say)
    parent = full.parent
    if not parent.is_dir():
        return
    new, old = _temp_re(full, "new"), _temp_re(full, "old")
    for q in sorted(parent.iterdir()):
        if q.is_symlink() or not q.is_dir():
            continue
        if old.match(q.name) and _marker(q) is not None:
            if not os.path.lexists(full):
                os.rename(q, full)
                say(f"restored the earlier output {full} from an interrupted replacement")
            elif not foreign_entries(q):
                shutil.rmtree(q)  # the earlier output, already replaced; only its deletion was cut short
        elif new.match(q.name):
            # a result an interrupted command never finished building: files convsim wrote, then its marker
            unfinished = _marker(q) is None and all(e.what == "file" for e in _entries(q))
            if unfinished or (_marker(q) is not None and not foreign_entries(q)):
                shutil.rmtree(q, ignore_errors=True)


def _write_error(exc: OSError, where: Path, tmp: Path | None = None, final: Path | None = None) -> WriteError:
    """One line: which file could not be written and why (a temporary name shown as the file it stands for)."""
    name = str(exc.filename) if exc.filename else str(where)
    if tmp is not None and final is not None:
        name = name.replace(str(tmp), str(final))
    reason = exc.strerror or (str(exc).splitlines() or [type(exc).__name__])[0]
    return WriteError(f"could not write {name}: {reason}; the earlier output, if any, is unchanged")


@contextmanager
def atomic_folder(out_dir: str | Path, kind: str = "run", patterns: Iterable[str] = (),
                  option: str = "--out", replaces: Iterable[str] | None = None) -> Iterator[Path]:
    """Yield an empty temporary folder beside ``out_dir``; on success it becomes ``out_dir``.

    What is in the temporary folder when the block ends is listed in the
    marker (with ``patterns`` for files added later). An existing ``out_dir``
    is replaced only if it is empty, or an output of a kind in ``replaces``
    (default: ``kind`` alone) holding nothing else — checked again here, at
    the moment of the swap. A link is followed (its target is replaced, the
    link stays). On any error or an interrupt the temporary folder is
    removed and ``out_dir`` is left as it was; an OS error while writing
    becomes a :class:`WriteError`.
    """
    shown = Path(out_dir)
    _check_path(shown, option)
    out = shown.resolve()
    with writer(shown, option):
        _recover(out)
        mount = os.path.ismount(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f"{SWAP}.new." if mount else f".{_short(out.name)}.new.",
                                    dir=out if mount else out.parent))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; the result should look like any new folder
        try:
            try:
                yield tmp
                write_marker(tmp, kind, _files(tmp), patterns)
            except OSError as exc:
                raise _write_error(exc, shown, tmp, shown) from None
            allowed = set(replaces) if replaces is not None else {kind}
            if mount:
                _mount_swap(tmp, out, shown, option, kind, allowed)
            elif os.path.lexists(out):
                if not out.is_dir():
                    raise InputError(f"{shown}: {option} is an existing file")
                if any(out.iterdir()):
                    m = _marker(out)
                    if m is None:
                        raise InputError(f"{shown}: {option} is a folder that holds files convsim did not write; "
                                         "nothing was replaced")
                    if m.get("kind") not in allowed:
                        raise InputError(f"{shown}: {option} holds the output of `convsim {m.get('kind')}`, which "
                                         f"`convsim {kind}` never replaces; nothing was replaced")
                    _refuse_foreign(out, option, shown)
                _swap(tmp, out)
            else:
                os.rename(tmp, out)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def _uninterrupted() -> Iterator[None]:
    """Hold Ctrl-C and termination signals back for a few renames that belong together; delivered right after."""
    held = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
    before = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def _swap(tmp: Path, out: Path) -> None:
    """Put the finished folder ``tmp`` in place of ``out``; the old one is deleted once the new one is there."""
    if _exchange(tmp, out):
        shutil.rmtree(tmp)  # now the old output
        return
    # two renames: cut between them (a power loss, SIGKILL), the old output waits under .NAME.old.* and the next
    # command on the same output restores it
    old = Path(tempfile.mkdtemp(prefix=f".{_short(out.name)}.old.", dir=out.parent))
    with _uninterrupted():
        os.replace(out, old)
        os.rename(tmp, out)
    shutil.rmtree(old)


# -- replacing an output in a mount point: swapping the contents ----------------------------------------------------


#: Prefix of the hidden working folders convsim makes inside a mount point it writes (``.convsim-swap.new.*``,
#: ``.convsim-swap.old.*``); ``.convsim-swap.json`` records a swap's progress.
SWAP = ".convsim-swap"
SWAP_RECORD = f"{SWAP}.json"
_SWAP_DIR = re.compile(re.escape(SWAP) + r"\.(new|old)\.[A-Za-z0-9_]{8}$")
#: The record's temporary file while it is written (:func:`atomic_file`), left by a kill at that moment.
_SWAP_TEMP = re.compile(re.escape(f".{SWAP}.") + r"[0-9]+\.tmp\.json$")
_RENAME_NOREPLACE = 1


def _working(name: str) -> bool:
    """Whether ``name`` is one of convsim's working entries inside a mount point."""
    return name == SWAP_RECORD or _SWAP_DIR.match(name) is not None or _SWAP_TEMP.match(name) is not None


def _move(a: Path, b: Path) -> None:
    """Rename ``a`` to ``b`` in one step, never replacing anything at ``b`` (``FileExistsError`` instead)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        fn = None
    if fn is not None:
        fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
        if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_NOREPLACE) == 0:
            return
        err = ctypes.get_errno()
        if err not in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
            raise OSError(err, os.strerror(err), str(b))
    if os.path.lexists(b):  # where the system cannot refuse for us: a look first (a moment's race remains)
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(b))
    os.rename(a, b)


def _mount_entries(full: Path, option: str, shown: Path) -> tuple[list[str], list[str]]:
    """The top-level entries of the earlier output in the mount point ``full``: (convsim's, the user's).

    A top-level entry is the user's if it, or everything below it, is not listed by the marker; a folder that
    holds both convsim's files and the user's cannot be moved aside without the user's, and is refused.
    """
    tops = sorted(q.name for q in full.iterdir() if not _working(q.name))
    foreign: dict[str, list[Entry]] = {}
    for e in foreign_entries(full):
        top = e.rel.split("/")[0]
        if top in tops:
            foreign.setdefault(top, []).append(e)
    users = []
    for top, mine in foreign.items():
        if any(e.rel == top for e in mine) or len(mine) == sum(1 for _ in _entries(full / top)):
            users.append(top)
        else:
            raise InputError(f"{shown}: {option}: {top}/ holds convsim's files and things convsim did not write "
                             f"({mine[0]}); convsim never moves them: move them out of {top}/ or choose another "
                             "folder")
    return [t for t in tops if t not in users], sorted(users)


def _write_swap(out: Path, record: dict) -> None:
    """Record a swap's progress: written in full, renamed into place, and the rename itself made durable."""
    with atomic_file(out / SWAP_RECORD) as tmp:
        with tmp.open("w", encoding="utf-8") as f:
            json.dump(record, f)
            f.flush()
            os.fsync(f.fileno())
    fd = os.open(out, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _plain(names: object) -> bool:
    """Whether ``names`` is a list of plain entry names (a record never moves anything outside its folder)."""
    return isinstance(names, list) and all(isinstance(n, str) and n not in ("", ".", "..") and "/" not in n
                                           and "\0" not in n for n in names)


def _sync_tree(folder: Path) -> None:
    """Every file below ``folder`` on disk before the swap is recorded (a power cut cannot empty a moved file)."""
    for e in _entries(folder):
        if e.what == "file":
            fd = os.open(folder / e.rel, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def _mount_swap(tmp: Path, out: Path, shown: Path, option: str, kind: str, allowed: set[str]) -> None:
    """Put the finished output ``tmp`` (a folder inside the mount point ``out``) in place of convsim's entries.

    Checked again at this moment: an earlier output must be of a kind in ``allowed``, hold no folder mixing
    convsim's files with the user's, and no entry of the user's may bear the name of a new one. Then: convsim's
    old entries are moved into a hidden folder, the new ones moved in, the hidden folders removed — every step
    recorded in :data:`SWAP_RECORD`, so that :func:`_recover_mount` finishes (or undoes) a swap cut anywhere.
    """
    m = _marker(out)
    ours: list[str] = []
    users = [q.name for q in out.iterdir() if not _working(q.name)]
    if m is not None:
        if m.get("kind") not in allowed:
            raise InputError(f"{shown}: {option} holds the output of `convsim {m.get('kind')}`, which "
                             f"`convsim {kind}` never replaces; nothing was replaced")
        ours, users = _mount_entries(out, option, shown)
    elif [u for u in users if u != "lost+found"]:
        raise InputError(f"{shown}: {option} is a folder that holds files convsim did not write; nothing was "
                         "replaced")
    new = sorted(q.name for q in tmp.iterdir())
    clash = sorted(set(new) & set(users))
    if clash:
        raise InputError(f"{shown}: {option}: {clash[0]} there is not convsim's, and the new output has one of that "
                         "name; convsim never replaces it: move it, or choose another folder; nothing was replaced")
    _sync_tree(tmp)
    old = Path(tempfile.mkdtemp(prefix=f"{SWAP}.old.", dir=out))
    record = {"new": tmp.name, "old": old.name, "old_entries": ours, "new_entries": new, "phase": "aside"}
    try:
        _write_swap(out, record)
    except BaseException:
        old.rmdir()
        raise
    with _uninterrupted():
        _finish_swap(out, record, shown)


def _finish_swap(out: Path, record: dict, shown: Path, say: Callable[[str], None] | None = None) -> None:
    """Carry the swap ``record`` in the mount point ``out`` on from its phase to the end: forward (old entries
    aside, new ones in), or — if that cannot be done without replacing something that is not convsim's, or the
    file system fails — back to the earlier output, said in a :class:`WriteError`."""
    new, old = out / record["new"], out / record["old"]
    try:
        if record["phase"] == "aside":
            for e in record["old_entries"]:
                if os.path.lexists(out / e) and not os.path.lexists(old / e):
                    _move(out / e, old / e)
            record["phase"] = "in"
            _write_swap(out, record)
        if record["phase"] == "in":
            for e in record["new_entries"]:
                if os.path.lexists(new / e):
                    _move(new / e, out / e)
            record["phase"] = "done"
            _write_swap(out, record)
    except OSError as exc:
        if record["phase"] != "done":
            record["phase"] = "back"
            try:
                _write_swap(out, record)
            finally:
                _undo_swap(out, record, shown)
            if isinstance(exc, FileExistsError):
                raise WriteError(f"could not put the new output in {shown}: {exc.filename} appeared there meanwhile "
                                 "and is not convsim's; the earlier output is back, nothing was replaced") from None
            raise _write_error(exc, shown) from None
    if record["phase"] == "back":
        _undo_swap(out, record, shown)
        if say is not None:
            say(f"restored the earlier output in {shown} from an interrupted replacement")
        return
    shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(new, ignore_errors=True)
    (out / SWAP_RECORD).unlink(missing_ok=True)


def _undo_swap(out: Path, record: dict, shown: Path) -> None:
    """Move the new entries back into the staging folder and the old ones back in place; remove what is left."""
    new, old = out / record["new"], out / record["old"]
    for e in reversed(record["new_entries"]):
        if os.path.lexists(out / e) and not os.path.lexists(new / e) and new.is_dir():
            _move(out / e, new / e)
    kept = []
    for e in record["old_entries"]:
        if os.path.lexists(old / e):
            try:
                _move(old / e, out / e)
            except FileExistsError:
                kept.append(e)
    if kept:  # something not convsim's took an old entry's name meanwhile: the old one stays aside, and is said
        raise WriteError(f"could not restore {shown / kept[0]} of the earlier output: something else is there now; "
                         f"the earlier one is kept in {old}")
    shutil.rmtree(new, ignore_errors=True)
    shutil.rmtree(old, ignore_errors=True)
    (out / SWAP_RECORD).unlink(missing_ok=True)


def _recover_mount(full: Path, say: Callable[[str], None]) -> None:
    """Finish (or undo) a swap of contents cut short in the mount point ``full``; remove working folders an
    interrupted command left (a staging folder it never finished, an empty folder for the old output)."""
    rec = full / SWAP_RECORD
    if os.path.lexists(rec):
        try:
            record = json.loads(rec.read_text(encoding="utf-8"))
            ok = isinstance(record, dict) and record.get("phase") in ("aside", "in", "done", "back") and all(
                isinstance(record.get(k), str) and _SWAP_DIR.match(record[k]) for k in ("new", "old")) and all(
                _plain(record.get(k)) for k in ("old_entries", "new_entries"))
        except (OSError, ValueError):
            ok = False
        if not ok:
            raise InputError(f"{rec}: the record of an interrupted replacement cannot be read; convsim will not "
                             f"guess: look at the hidden {SWAP}.* folders in {full}, keep what you need, remove them")
        before = record["phase"]
        _finish_swap(full, record, full, say)
        if before in ("aside", "in"):
            say(f"completed the replacement of the output in {full}, interrupted earlier")
    for q in sorted(full.iterdir()):
        if _SWAP_TEMP.match(q.name) and q.is_file() and not q.is_symlink():
            q.unlink()  # the record's temporary file, cut by a kill before its rename
        if not _SWAP_DIR.match(q.name) or q.is_symlink() or not q.is_dir():
            continue
        if q.name.startswith(f"{SWAP}.old."):
            if not any(q.iterdir()):
                q.rmdir()
        else:
            unfinished = _marker(q) is None and all(e.what == "file" for e in _entries(q))
            if unfinished or (_marker(q) is not None and not foreign_entries(q)):
                shutil.rmtree(q, ignore_errors=True)


# -- markers ------------------------------------------------------------------------------------------------------


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
    """Delete an earlier convsim output folder — refused if it holds anything convsim did not write.

    A linked folder's contents are removed and the (now empty) folder kept, so the link still points somewhere.
    """
    real = folder.resolve()
    if _marker(real) is None:
        raise InputError(f"{folder}: {option} is not a convsim output folder; convsim never deletes it")
    _refuse_foreign(real, option, folder)
    if folder.is_symlink() or os.path.ismount(real):
        for q in real.iterdir():
            shutil.rmtree(q) if q.is_dir() and not q.is_symlink() else q.unlink()
    else:
        shutil.rmtree(real)


def part_is_whole(path: Path, say: Callable[[str], None] | None = None) -> bool:
    """Whether ``path`` is a complete Parquet file; an empty or cut one (a power loss) is said and counts as missing.

    Parts are renamed into place only when written, but a file system without
    ordered writes can still show a renamed file empty after a power cut.
    """
    if not path.is_file():
        return False
    import pyarrow.parquet as pq

    try:
        ok = path.stat().st_size > 0 and pq.read_metadata(path).num_rows > 0
    except Exception:  # pyarrow's errors for a truncated file are ArrowInvalid & co.
        ok = False
    if not ok:
        (say or (lambda m: print(f"convsim: {m}", file=sys.stderr)))(
            f"{path} is empty or unreadable (a run cut short?); computing it again")
    return ok


def database_is_whole(path: Path, option: str = "--out", say: Callable[[str], None] | None = None) -> bool:
    """Whether the SQLite database ``path`` (a calibration's history) can be continued.

    Missing: False. Empty (a power cut before its first write): removed, said, False — the work starts again.
    Unreadable or damaged: an :class:`InputError` naming it (it may hold hours of work; convsim never deletes it).
    """
    import sqlite3

    if not path.is_file():
        return False
    if path.stat().st_size == 0:
        path.unlink()
        (say or (lambda m: print(f"convsim: {m}", file=sys.stderr)))(
            f"{path} was empty (a run cut short before its first generation?); starting it again")
        return False
    try:
        with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True) as db:
            ok = db.execute("PRAGMA quick_check").fetchone()[0] == "ok"
            tables = db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
        db.close()
    except sqlite3.DatabaseError as exc:
        ok, tables, why = False, 0, str(exc)
    else:
        why = "its integrity check fails" if not ok else "it holds no tables"
    if not (ok and tables):
        raise InputError(f"{path}: {option}: the history cannot be read ({why}); move it aside to keep it, or give "
                         "--fresh to start again")
    return True


# -- files --------------------------------------------------------------------------------------------------------


def _temp_name(p: Path) -> Path:
    return p.with_name(f".{_short(p.stem)}.{os.getpid()}.tmp{p.suffix}")


@contextmanager
def atomic_file(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` (same suffix); on success it replaces ``path``.

    Readers see the old file or the new one, never half of one; on an error or
    an interrupt the temporary file is removed. An OS error while writing (a
    full disk) becomes a :class:`WriteError` naming ``path``.
    """
    p = Path(path)
    tmp = _temp_name(p)
    try:
        try:
            yield tmp
            os.replace(tmp, p)
        except OSError as exc:
            raise _write_error(exc, p, tmp, p) from None
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def atomic_files(folder: str | Path, names: Iterable[str], record: bool = True) -> Iterator[Mapping[str, Path]]:
    """Yield temporary paths for several files of ``folder``; all of them replace their files, or none does.

    Every file is written in full before the first is renamed into place, so a
    full disk or an interrupt leaves the earlier files as they were. With
    ``record`` the files are recorded as convsim's (:func:`written_by_convsim`),
    so a later command may replace them — and only them.
    """
    d = Path(folder)
    names = list(names)
    tmps = {n: _temp_name(d / n) for n in names}
    try:
        try:
            d.mkdir(parents=True, exist_ok=True)
            yield tmps
            for t in tmps.values():  # every byte is on disk before any rename
                with t.open("rb") as f:
                    os.fsync(f.fileno())
            with _uninterrupted():
                for n, t in tmps.items():
                    os.replace(t, d / n)
            if record:
                _record_written(d, names)
        except OSError as exc:
            shown = {str(t): str(d / n) for n, t in tmps.items()}
            if exc.filename is not None and str(exc.filename) in shown:
                exc.filename = shown[str(exc.filename)]
            raise _write_error(exc, d) from None
    finally:
        for t in tmps.values():
            t.unlink(missing_ok=True)
