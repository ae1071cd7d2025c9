"""The file helpers of symattn._io: bounded reads, checked .npy/.npz members, atomic writes that keep
the umask and hold signals, output checks and locks."""

from __future__ import annotations

import io
import os
import re
import signal
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from symattn._io import (
    ARRAY_BYTES,
    DATASET_BYTES,
    atomic_save_npz,
    atomic_write_bytes,
    check_output_dir,
    check_output_file,
    exclusive,
    read_input,
    read_npy,
    read_npz,
    signals_deferred,
)
from symattn.errors import FileFormatError, InvalidInput


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _zip(path: Path, members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_npz_round_trip_keeps_dtypes_and_shapes(tmp_path):
    arrays = {"f": np.arange(6.0).reshape(2, 3), "i": np.arange(4, dtype=np.int32), "s": np.array("text"),
              "F": np.asfortranarray(np.arange(6.0).reshape(2, 3)), "empty": np.zeros((0, 3))}
    back = read_npz(atomic_save_npz(tmp_path / "a.npz", **arrays))
    for key, value in arrays.items():
        assert back[key].dtype == value.dtype and back[key].shape == value.shape
        np.testing.assert_array_equal(back[key], value)
    np.save(tmp_path / "x.npy", arrays["F"])
    np.testing.assert_array_equal(read_npy(tmp_path / "x.npy"), arrays["F"])


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ({"W.npy": _npy(np.zeros(4))[:-8]}, "the data are shorter than shape (4,) needs (24 of 32 bytes)"),
        ({"W.npy": _npy(np.zeros(4)) + bytes(8)}, "8 bytes follow the 32 bytes shape (4,) needs"),
        ({"W.txt": b"hello"}, "is not a .npy array"),
        ({"W.npy": b"not numpy at all"}, "not a NumPy .npy array"),
        ({"W.npy": b"\x93NUMPY\x03\x00" + bytes(8)}, "version 3.0 is not supported"),
        ({"W.npy": b"\x93NUMPY\x02\x00" + (2**31).to_bytes(4, "little")}, "malformed .npy header (length"),
        ({"W.npy": b"\x93NUMPY\x01\x00\x10\x00{'descr': 'x'}  \n"}, "malformed .npy header"),
    ],
    ids=["truncated", "trailing", "not npy member", "not numpy", "version 3", "huge header", "bad descr"],
)
def test_bad_members_are_named(tmp_path, members, message):
    with pytest.raises(FileFormatError, match=re.escape(message)):
        read_npz(_zip(tmp_path / "a.npz", members))


def test_object_arrays_are_refused_without_the_pickle_hint(tmp_path):
    np.savez(tmp_path / "a.npz", x=np.array([None, 1], dtype=object), allow_pickle=True)
    with pytest.raises(FileFormatError) as info:
        read_npz(tmp_path / "a.npz")
    assert "never unpickles" in str(info.value) and "allow_pickle" not in str(info.value)
    np.save(tmp_path / "a.npy", np.array([None], dtype=object), allow_pickle=True)
    with pytest.raises(FileFormatError, match="Python objects"):
        read_npy(tmp_path / "a.npy")


def test_inflated_size_is_checked_before_inflating(tmp_path, monkeypatch):
    header = _npy(np.zeros(2**20))[:128]
    bomb = _zip(tmp_path / "bomb.npz", {"W.npy": header + bytes(8 * 2**20)})
    assert bomb.stat().st_size < 2**15  # 8 MiB of zeros deflates to a few KiB
    monkeypatch.setenv("SYMATTN_MAX_ARRAY_BYTES", str(2**20))
    inflated = []
    real_open = zipfile.ZipFile.open
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda self, *a, **k: inflated.append(a) or real_open(self, *a, **k))
    with pytest.raises(FileFormatError, match="8 MiB, above the limit of 1 MiB"):
        read_npz(bomb)
    assert inflated == []


def test_a_lying_zip_directory_inflates_no_more_than_it_claims(tmp_path):
    path = _zip(tmp_path / "a.npz", {"W.npy": _npy(np.ones(1000))})
    data = bytearray(path.read_bytes())
    # shrink the uncompressed size the central directory claims: zipfile then stops inflating at
    # the claimed size (and fails its CRC), or the header check refuses the member
    with zipfile.ZipFile(path) as archive:
        info = archive.infolist()[0]
    central = data.rindex(b"PK\x01\x02")
    data[central + 24 : central + 28] = (info.file_size // 2).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    with pytest.raises(FileFormatError, match=r"Bad CRC-32|data are shorter|needs 7\.81 KiB"):
        read_npz(path)


def test_too_many_members(tmp_path):
    with pytest.raises(FileFormatError, match="5000 members"):
        read_npz(_zip(tmp_path / "a.npz", {f"m{i}.npy": b"" for i in range(5000)}, zipfile.ZIP_STORED))


@pytest.mark.timeout(30)
@pytest.mark.parametrize("kind", ["fifo", "dir", "/dev/zero"])
def test_only_regular_files_are_read(tmp_path, kind):
    path = tmp_path / "x"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dir":
        path.mkdir()
    else:
        path = Path(kind)
    for read in (lambda: read_input(path, DATASET_BYTES), lambda: read_npz(path), lambda: read_npy(path)):
        with pytest.raises(FileFormatError, match="not a regular file"):
            read()


def test_size_limits_name_their_variable(tmp_path, monkeypatch):
    path = tmp_path / "d.txt"
    path.write_bytes(b"x" * 300)
    monkeypatch.setenv("SYMATTN_MAX_DATASET_BYTES", "200")
    with pytest.raises(FileFormatError, match=r"300 bytes, above the limit of 200 bytes.*SYMATTN_MAX_DATASET_BYTES"):
        read_input(path, DATASET_BYTES)
    with pytest.raises(FileFormatError, match="more than the limit"):
        read_input(io.BytesIO(b"x" * 300), DATASET_BYTES, name="<stdin>")
    monkeypatch.setenv("SYMATTN_MAX_ARRAY_BYTES", "lots")
    with pytest.raises(InvalidInput, match="SYMATTN_MAX_ARRAY_BYTES='lots' must be a positive number"):
        ARRAY_BYTES.value()


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_new_files_follow_the_umask_and_replaced_files_keep_their_mode(tmp_path, umask):
    old = os.umask(umask)
    try:
        fresh = atomic_write_bytes(tmp_path / "new.bin", b"1")
        assert stat.S_IMODE(fresh.stat().st_mode) == 0o666 & ~umask
        kept = tmp_path / "kept.bin"
        kept.write_bytes(b"0")
        kept.chmod(0o640)
        atomic_write_bytes(kept, b"1")
        assert stat.S_IMODE(kept.stat().st_mode) == 0o640
    finally:
        os.umask(old)


def test_signals_during_a_write_wait_for_it(tmp_path, monkeypatch):
    target = tmp_path / "a.bin"
    real_fsync = os.fsync

    def fsync_with_signals(fd: int) -> None:
        signal.raise_signal(signal.SIGINT)
        signal.raise_signal(signal.SIGINT)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync_with_signals)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_bytes(target, b"complete")
    assert target.read_bytes() == b"complete"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_signals_deferred_restores_handlers_and_delivers_once():
    calls = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: calls.append(signum))
    try:
        with signals_deferred():
            signal.raise_signal(signal.SIGTERM)
            signal.raise_signal(signal.SIGTERM)
            assert calls == []
        assert calls == [signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_write_errors_name_the_target_not_the_temporary_file(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OSError) as info:
        atomic_write_bytes(blocker / "x.bin", b"")
    assert info.value.filename == str(blocker / "x.bin")


def test_output_checks(tmp_path):
    assert check_output_dir(tmp_path / "a" / "b", "--out").is_dir()
    (tmp_path / "f").write_text("")
    with pytest.raises(InvalidInput, match=r"--out .*/f: a file is in the way"):
        check_output_dir(tmp_path / "f", "--out")
    with pytest.raises(InvalidInput, match="cannot create the directory"):
        check_output_dir(tmp_path / "f" / "sub", "--out")
    os.mkfifo(tmp_path / "p")
    with pytest.raises(InvalidInput, match=r"a FIFO \(named pipe\) is in the way"):
        check_output_file(tmp_path / "p", "--checkpoint")
    assert check_output_file(tmp_path / "new" / "c.npz", "--checkpoint").parent.is_dir()
    assert sorted(p.name for p in (tmp_path / "a" / "b").iterdir()) == []  # the probe left nothing


def test_a_lock_names_its_holder_and_dies_with_it(tmp_path):
    lock = tmp_path / ".lock"
    with (
        exclusive(lock, "--out x"),
        pytest.raises(InvalidInput, match=f"process {os.getpid()}"),
        exclusive(lock, "--out x"),
    ):
        pass
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from symattn._io import exclusive\n"
         "with exclusive(sys.argv[1], 'x'):\n    print('held', flush=True); time.sleep(60)", str(lock)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(InvalidInput, match=f"process {holder.pid}"), exclusive(lock, "--out x"):
            pass
    finally:
        holder.kill()
        holder.communicate()
    time.sleep(0.05)
    with exclusive(lock, "--out x"):  # the kernel released the dead holder's lock
        assert lock.read_text().strip() == str(os.getpid())
    assert not lock.exists()
