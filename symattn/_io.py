"""Private file helpers, one home each: bounded reads, checked ``.npy``/``.npz`` reading, atomic
writes that respect the umask and survive signals, output checks made before a run, and locks.

Reading. Only regular files are read (a FIFO, a device such as ``/dev/zero``, a directory or a
socket is refused before anything is read, so nothing hangs), and never more than a size limit;
each :class:`Limit` names the environment variable that raises it. Arrays come from ``.npy`` and
``.npz`` files through :func:`read_npy` and :func:`read_npz`, which check every member's header
(dtype, shape, the size the zip directory promises) *before* inflating it and never unpickle.

Writing. :func:`atomic_write_bytes` writes a temporary file beside the target, flushes it and
renames it over the target, with SIGINT and SIGTERM held meanwhile (:func:`signals_deferred`),
so a reader sees the old file or the new one and no temporary file is left behind by a signal.
New files get the usual ``0o666 & ~umask`` mode; a replaced file keeps its mode.

>>> folder = Path(tempfile.mkdtemp())
>>> _ = atomic_save_npz(folder / "a.npz", w=np.eye(2))
>>> read_npz(folder / "a.npz")["w"].tolist()
[[1.0, 0.0], [0.0, 1.0]]
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import stat
import tempfile
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from symattn.errors import FileFormatError, InvalidInput

__all__ = [
    "ARRAY_BYTES",
    "DATASET_BYTES",
    "Limit",
    "atomic_save_npz",
    "atomic_write_bytes",
    "atomic_write_text",
    "check_output_dir",
    "check_output_file",
    "exclusive",
    "format_bytes",
    "npy_data",
    "npy_header",
    "read_input",
    "read_npy",
    "read_npz",
    "save_text",
    "signals_deferred",
]

_MAX_NPY_HEADER = 65536
_MAX_MEMBERS = 4096
_HELD_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM") if hasattr(signal, name))


@dataclass(frozen=True)
class Limit:
    """A size limit on what is read, raised through the environment variable ``env``.

    >>> Limit("SYMATTN_DOCTEST_LIMIT", 1024, "doctest files").value()
    1024
    """

    env: str
    default: int
    what: str

    def value(self) -> int:
        """The limit in bytes: ``$env`` when set, else the default."""
        raw = os.environ.get(self.env)
        if raw is None or not raw.strip():
            return self.default
        try:
            value = int(raw.strip())
        except ValueError:
            value = -1
        if value < 1:
            raise InvalidInput(f"{self.env}={raw!r} must be a positive number of bytes")
        return value

    def refuse(self, source: object, size: int | None = None) -> FileFormatError:
        """The error for ``source`` holding ``size`` bytes (or more than the limit).

        >>> print(DATASET_BYTES.refuse("d.txt", 2**27))  # doctest: +ELLIPSIS
        d.txt: 128 MiB, above the limit of 64 MiB for dataset files; raise the limit with ...
        """
        cap = self.value()
        have, limit = format_bytes(size or 0), format_bytes(cap)
        if have == limit:
            have, limit = f"{size:,} bytes", f"{cap:,} bytes"
        have = "more than the limit" if size is None else f"{have}, above the limit"
        return FileFormatError(
            f"{source}: {have} of {limit} for {self.what}; raise the limit with the "
            f"environment variable {self.env}=BYTES if this input is intended"
        )


DATASET_BYTES = Limit("SYMATTN_MAX_DATASET_BYTES", 64 * 2**20, "dataset files")
"""Dataset files (JSON or text, and standard input) are read up to 64 MiB by default."""
ARRAY_BYTES = Limit("SYMATTN_MAX_ARRAY_BYTES", 2**30, "arrays (.npy/.npz, uncompressed)")
"""Arrays in ``.npy``/``.npz`` files (checkpoints, trajectories, weights): 1 GiB in all by default."""


def format_bytes(size: int) -> str:
    """``size`` bytes for people: ``512 bytes``, ``64 MiB``, ``7.28 TiB``.

    >>> format_bytes(8 * 10**12), format_bytes(64 * 2**20), format_bytes(12)
    ('7.28 TiB', '64 MiB', '12 bytes')
    """
    for unit, power in (("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if size >= 2**power:
            return f"{size / 2**power:.3g} {unit}"
    return f"{size} bytes"


# -- reading ------------------------------------------------------------------------------------
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _kind(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "a file"
    return next((name for test, name in _KINDS if test(mode)), "a special file")


def _open_regular(path: Path) -> IO[bytes]:
    """``path`` opened for reading if it is a regular file (opened without blocking, then checked)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise FileFormatError(f"{path}: cannot read ({exc.strerror or exc})") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise FileFormatError(f"{path}: {_kind(mode)}, not a regular file; give a file name")
    return os.fdopen(fd, "rb")


def read_input(source: str | os.PathLike[str] | IO[bytes], limit: Limit, *, name: str | None = None) -> bytes:
    """All bytes of a regular file (or of a binary stream such as stdin), at most ``limit`` of them.

    >>> path = Path(tempfile.mkdtemp()) / "a.txt"
    >>> _ = path.write_bytes(b"a b -> a")
    >>> read_input(path, DATASET_BYTES)
    b'a b -> a'
    >>> read_input(Path("/dev/zero"), DATASET_BYTES)
    Traceback (most recent call last):
    ...
    symattn.errors.FileFormatError: /dev/zero: a character device, not a regular file; give a file name
    """
    cap = limit.value()
    label = name if name is not None else source
    if isinstance(source, str | os.PathLike):
        with _open_regular(Path(source)) as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > cap:
                raise limit.refuse(label, size)
            data = handle.read(cap + 1)
    else:
        data = source.read(cap + 1)
    if len(data) > cap:
        raise limit.refuse(label)
    return data


def npy_header(
    handle: IO[bytes], where: str, *, numbers_only: bool = False
) -> tuple[tuple[int, ...], bool, np.dtype, int]:
    """Shape, Fortran order, dtype and header length of the ``.npy`` stream at ``handle``.

    The header length is bounded before the header is read, and object dtypes (pickles) are
    refused; with ``numbers_only`` every dtype but real numbers (floats and integers) is. Read
    the data next with :func:`npy_data`, after any check of the shape.
    """
    magic = handle.read(8)
    if len(magic) < 8 or magic[:6] != b"\x93NUMPY":
        raise FileFormatError(f"{where}: not a NumPy .npy array")
    major = magic[6]
    if major not in (1, 2):
        raise FileFormatError(
            f"{where}: .npy format version {major}.{magic[7]} is not supported (1.0 or 2.0)"
        )
    width = 2 if major == 1 else 4
    length_field = handle.read(width)
    length = int.from_bytes(length_field, "little")
    if len(length_field) < width or length > _MAX_NPY_HEADER:
        raise FileFormatError(f"{where}: malformed .npy header (length {length})")
    header = handle.read(length)
    reader = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
    try:
        shape, fortran, dtype = reader(io.BytesIO(length_field + header))
    except (ValueError, TypeError, SyntaxError) as exc:
        raise FileFormatError(f"{where}: malformed .npy header ({exc})") from None
    if numbers_only and dtype.kind not in "fiu":
        raise FileFormatError(
            f"{where}: dtype {dtype} is not a real number type; save float64, float32 or integers "
            "(objects are never unpickled)"
        )
    if dtype.hasobject:
        raise FileFormatError(
            f"{where}: holds Python objects (dtype {dtype}); symattn reads numbers and text only and "
            "never unpickles"
        )
    return shape, fortran, dtype, 8 + width + length


def npy_data(
    handle: IO[bytes],
    where: str,
    header: tuple[tuple[int, ...], bool, np.dtype, int],
    stored: int,
    budget: int,
) -> np.ndarray:
    """Read the data of a checked header: exactly the bytes it promises, within ``budget``."""
    shape, fortran, dtype, header_bytes = header
    count = int(np.prod(shape, dtype=object)) if shape else 1
    nbytes = count * dtype.itemsize
    if nbytes > budget:
        raise FileFormatError(
            f"{where}: shape {shape} of {dtype} needs {format_bytes(nbytes)}, more than is allowed"
        )
    have = stored - header_bytes
    if have < nbytes:
        raise FileFormatError(
            f"{where}: the data are shorter than shape {shape} needs ({have} of {nbytes} bytes)"
        )
    if have > nbytes:
        raise FileFormatError(f"{where}: {have - nbytes} bytes follow the {nbytes} bytes shape {shape} needs")
    if nbytes == 0:
        return np.empty(shape, dtype=dtype)
    buffer = bytearray(nbytes)
    done = 0
    while done < nbytes:
        chunk = handle.read(min(nbytes - done, 1 << 24))
        if not chunk:
            raise FileFormatError(f"{where}: truncated data for shape {shape}")
        buffer[done : done + len(chunk)] = chunk
        done += len(chunk)
    return np.frombuffer(buffer, dtype=dtype).reshape(shape, order="F" if fortran else "C")


def read_npy(path: str | os.PathLike[str], *, limit: Limit = ARRAY_BYTES) -> np.ndarray:
    """One array from a ``.npy`` file, its header checked before the data are read (no pickle).

    >>> path = Path(tempfile.mkdtemp()) / "a.npy"
    >>> np.save(path, np.arange(3))
    >>> read_npy(path).tolist()
    [0, 1, 2]
    """
    file = Path(path)
    with _open_regular(file) as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > limit.value():
            raise limit.refuse(file, size)
        return npy_data(handle, str(file), npy_header(handle, str(file)), size, limit.value())


def read_npz(path: str | os.PathLike[str], *, limit: Limit = ARRAY_BYTES) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` file, each member checked before it is inflated (no pickle).

    The zip directory's uncompressed sizes are summed against ``limit`` first; then each
    member's ``.npy`` header (dtype, shape) must promise exactly the bytes the directory lists,
    and no more than that is ever decompressed.

    >>> path = atomic_save_npz(Path(tempfile.mkdtemp()) / "a.npz", x=np.ones(2), name=np.array("ok"))
    >>> {k: v.tolist() for k, v in sorted(read_npz(path).items())}
    {'name': 'ok', 'x': [1.0, 1.0]}
    """
    file = Path(path)
    cap = limit.value()
    with _open_regular(file) as handle:
        if os.fstat(handle.fileno()).st_size > cap:
            raise limit.refuse(file, os.fstat(handle.fileno()).st_size)
        try:
            with zipfile.ZipFile(handle) as archive:
                return _members(archive, file, limit)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError) as exc:
            raise FileFormatError(f"{file}: not a readable .npz archive ({exc})") from None


def _members(archive: zipfile.ZipFile, file: Path, limit: Limit) -> dict[str, np.ndarray]:
    infos = archive.infolist()
    if len(infos) > _MAX_MEMBERS:
        raise FileFormatError(f"{file}: {len(infos)} members; an .npz written by symattn holds a few")
    total = sum(info.file_size for info in infos)
    if total > limit.value():
        raise limit.refuse(file, total)
    out: dict[str, np.ndarray] = {}
    for info in infos:
        if not info.filename.endswith(".npy") or info.is_dir():
            raise FileFormatError(f"{file}: member {info.filename!r} is not a .npy array")
        where = f"{file}[{info.filename[:-4]}]"
        with archive.open(info) as member:
            out[info.filename[:-4]] = npy_data(
                member, where, npy_header(member, where), info.file_size, info.file_size
            )
            member.read(1)  # at the end of the member: zipfile checks its CRC here
    return out


# -- writing ------------------------------------------------------------------------------------
@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM while the block runs, then deliver them to the previous handlers.

    Used around every write so that a signal never leaves half a file or a temporary file
    behind. Outside the main thread (where handlers cannot be set) the block just runs.

    >>> with signals_deferred():
    ...     pass
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, _frame: held.append(signum)) for sig in _HELD_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)
        for sig in dict.fromkeys(held):
            signal.raise_signal(sig)


def _umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _renamed(exc: OSError, target: Path) -> OSError:
    """``exc`` naming ``target`` (the path asked for) instead of the temporary file."""
    return type(exc)(exc.errno, exc.strerror or str(exc), str(target))


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never a part.

    The bytes go to a temporary file in the same directory, are flushed to disk, and the
    temporary file then replaces ``path`` (``os.replace`` is atomic on POSIX and Windows), with
    SIGINT/SIGTERM held meanwhile. Errors name ``path``, never the temporary file.

    >>> folder = Path(tempfile.mkdtemp())
    >>> atomic_write_bytes(folder / "a.bin", b"xy").read_bytes(), sorted(p.name for p in folder.iterdir())
    (b'xy', ['a.bin'])
    """
    target = Path(path)
    with signals_deferred():
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else 0o666 & ~_umask()
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        except OSError as exc:
            raise _renamed(exc, target) from None
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, mode)
            os.replace(tmp, target)
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            raise _renamed(exc, target) from None
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return target


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write UTF-8 ``text`` atomically (see :func:`atomic_write_bytes`).

    >>> atomic_write_text(Path(tempfile.mkdtemp()) / "sub" / "a.txt", "é").read_text(encoding="utf-8")
    'é'
    """
    return atomic_write_bytes(path, text.encode("utf-8"))



def save_text(path: object, text: str) -> Path:
    """Write ``text`` atomically to a path the user gave; what cannot be written is bad input.

    Raises :class:`~symattn.errors.InvalidInput` for a path that is not a non-empty string or
    path-like, and :class:`~symattn.errors.FileFormatError` naming the path and the fix for a
    directory or a place that cannot be written (no temporary file is left behind).

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> save_text(folder / "a.txt", "x").read_text(encoding="utf-8")
    'x'
    >>> save_text(folder, "x")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    symattn.errors.FileFormatError: ...: is a directory; give a file name
    """
    if not isinstance(path, str | os.PathLike) or not str(path):
        raise InvalidInput(f"path {path!r} must be a non-empty string or a path-like object")
    target = Path(path)
    if target.is_dir():
        raise FileFormatError(f"{target}: is a directory; give a file name")
    try:
        return atomic_write_text(target, text)
    except OSError as exc:
        raise FileFormatError(
            f"{target}: cannot write ({exc.strerror or exc}); choose a path in a writable directory"
        ) from None


def atomic_save_npz(path: str | os.PathLike[str], **arrays: np.ndarray) -> Path:
    """Save arrays as an uncompressed ``.npz`` atomically; object arrays are refused.

    >>> path = atomic_save_npz(Path(tempfile.mkdtemp()) / "a.npz", w=np.eye(2))
    >>> np.load(path, allow_pickle=False)["w"].tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    for name, value in arrays.items():
        if np.asarray(value).dtype == object:
            raise TypeError(f"array {name!r} has dtype object, which .npz cannot hold safely")
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **arrays)
    return atomic_write_bytes(path, buffer.getvalue())


# -- outputs checked before a run, and locks ------------------------------------------------------
def check_output_dir(path: str | os.PathLike[str], what: str) -> Path:
    """The directory ``path``, created if needed and shown writable, else :class:`InvalidInput`.

    ``what`` names the option (``--out``) in the message, which also names ``path`` as given.

    >>> check_output_dir(Path(tempfile.mkdtemp()) / "new", "--out").is_dir()
    True
    >>> check_output_dir("/proc/no/such", "--out")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    symattn.errors.InvalidInput: --out /proc/no/such: cannot create the directory (No such file ...
    """
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise InvalidInput(f"{what} {path}: {_kind(folder.stat().st_mode)} is in the way; give a directory")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInput(
            f"{what} {path}: cannot create the directory ({exc.strerror or exc}); choose a writable place"
        ) from None
    try:
        fd, probe = tempfile.mkstemp(prefix=".symattn-probe.", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise InvalidInput(
            f"{what} {path}: cannot write there ({exc.strerror or exc}); choose a writable place"
        ) from None
    return folder


def check_output_file(path: str | os.PathLike[str], what: str) -> Path:
    """The file ``path``, if it is a regular file or absent and its directory is writable.

    >>> check_output_file(Path(tempfile.mkdtemp()), "--checkpoint")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    symattn.errors.InvalidInput: --checkpoint /...: a directory is in the way; give a file name
    """
    file = Path(path)
    if file.exists() and not file.is_file():
        raise InvalidInput(f"{what} {path}: {_kind(file.stat().st_mode)} is in the way; give a file name")
    check_output_dir(file.parent, f"{what} {path}: the directory")
    return file


@contextlib.contextmanager
def exclusive(lock: str | os.PathLike[str], what: str) -> Iterator[Path]:
    """Hold the lock file ``lock`` for the block, or refuse naming the process that holds it.

    The lock is an OS file lock (released by the kernel if the holder dies, even by SIGKILL)
    on a file holding the holder's PID; the file is removed when the block ends.

    >>> lock = Path(tempfile.mkdtemp()) / ".lock"
    >>> with exclusive(lock, "the test"):
    ...     lock.read_text().strip() == str(os.getpid())
    True
    >>> lock.exists()
    False
    """
    path = Path(lock)
    fd = _acquire(path, what)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield path
    finally:
        with signals_deferred():
            path.unlink(missing_ok=True)
            os.close(fd)


def _acquire(path: Path, what: str) -> int:
    for _ in range(20):
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        if not _try_lock(fd):
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise InvalidInput(
                f"{what} is in use by another symattn run (process {holder}, lock file {path}); wait for "
                "it to finish or choose another path"
            )
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)  # the previous holder removed the file we locked: lock the new one
    raise InvalidInput(f"{what}: the lock file {path} keeps changing; is another run starting?")


def _try_lock(fd: int) -> bool:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True
