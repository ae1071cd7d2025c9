"""Every row of the hostile-input review (issue 10): input -> exit code -> message, as a table.

``CLI_ROWS`` runs ``symattn`` in-process on one hostile input each and checks the exit code and a
fragment of what it printed (stdout and stderr together), plus, where the row is about work lost
or a silent wrong answer, what is on disk afterwards. ``SIGNAL_ROWS`` run the command as a
process and send it signals. ``API_ROWS`` call the library directly. The SIGKILL/SIGTERM
resume tests at the end compare W bytes against an uninterrupted run.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from symattn import Dataset, Vocabulary, load_dataset, load_example, predict, save_dataset, train
from symattn._io import exclusive, read_npz
from symattn.cli import main
from symattn.errors import InvalidInput
from symattn.model import loss
from symattn.train import Trajectory, regularization_path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = (ROOT / "symattn" / "examples" / "default.txt").read_text()


# -- setups ------------------------------------------------------------------------------------
def _file(name: str, content: str | bytes) -> Callable[[Path], None]:
    def make(tmp: Path) -> None:
        data = content.encode() if isinstance(content, str) else content
        (tmp / name).write_bytes(data)

    return make


def _fifo(name: str) -> Callable[[Path], None]:
    return lambda tmp: os.mkfifo(tmp / name)


def _json_dataset(vocab: object, samples: list[dict[str, object]]) -> str:
    return json.dumps({"format": "symattn.dataset/1", "vocab": vocab, "samples": samples})


def _checkpoint(edit: Callable[[dict[str, np.ndarray]], None]) -> Callable[[Path], None]:
    """A real checkpoint of 5 gd steps on the example (as the command makes it), then ``edit``."""

    def make(tmp: Path) -> None:
        path = tmp / "ck.npz"
        train(load_example(), steps=5, checkpoint=path, prediction=predict(load_example()))
        arrays = read_npz(path)
        edit(arrays)
        with path.open("wb") as handle:
            np.savez(handle, **arrays)

    return make


def _set(key: str, value: object) -> Callable[[dict[str, np.ndarray]], None]:
    return lambda arrays: arrays.__setitem__(key, np.asarray(value))


def _only_w(arrays: dict[str, np.ndarray]) -> None:
    for key in list(arrays):
        if key != "W":
            del arrays[key]


def _zip_bomb(tmp: Path) -> None:
    """A 64 MiB member of zeros that deflates to about 64 KiB, behind a valid .npy header."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": "<f8", "fortran_order": False, "shape": (2**23,)})
    with (
        zipfile.ZipFile(tmp / "ck.npz", "w", compression=zipfile.ZIP_DEFLATED) as archive,
        archive.open("W.npy", "w", force_zip64=True) as member,
    ):
        member.write(buffer.getvalue())
        for _ in range(64):
            member.write(bytes(2**20))


def _pickled(tmp: Path) -> None:
    np.savez(tmp / "ck.npz", W=np.array([{"a": 1}], dtype=object), allow_pickle=True)


def _npy(tmp: Path) -> None:
    np.save(tmp / "ck.npy", np.zeros(3))
    (tmp / "ck.npy").rename(tmp / "ck.npz")


def _another_run_holds_out(tmp: Path) -> contextlib.AbstractContextManager[Path]:
    (tmp / "out").mkdir()
    return exclusive(tmp / "out" / ".symattn.lock", "another run")


def _no_matplotlib(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)


# -- checks on disk ----------------------------------------------------------------------------
def _absent(name: str) -> Callable[[Path, str], None]:
    def check(tmp: Path, _text: str) -> None:
        assert not (tmp / name).exists(), f"{name} was written: the run started before the bad output was found"

    return check


def _no_tmp(tmp: Path, text: str) -> None:
    assert ".tmp" not in text


def _regpath_config(tmp: Path, _text: str) -> None:
    summary = json.loads((tmp / "o" / "trajectory.json").read_text())
    assert summary["config"] == {"method": "regpath", "loss": "log", "radii": [1.0, 10.0], "time_budget": None}


def _png(tmp: Path, _text: str) -> None:
    assert (tmp / "o" / "trajectory.png").stat().st_size > 0


def _bom_stripped(_tmp: Path, text: str) -> None:
    assert json.loads(text[: text.rindex("}") + 1])["vocab"] == ["a", "b"]


def _escaped(_tmp: Path, text: str) -> None:
    assert "\u202e" not in text and "\\u202e" in text


def _umask_respected(tmp: Path, _text: str) -> None:
    for name in ("trajectory.npz", "trajectory.json"):
        assert stat.S_IMODE((tmp / "o" / name).stat().st_mode) == 0o644, name


def _reproduce_json(tmp: Path, _text: str) -> None:
    payload = json.loads((tmp / "r" / "reproduce.json").read_text())
    assert len(payload["trials"]) == 1 and not (tmp / "r" / "reproduce_ngd.png").exists()


def _extended_like_one_run(tmp: Path, _text: str) -> None:
    once = train(load_example(), steps=120)
    back = Trajectory.load(tmp / "o" / "trajectory.npz")
    assert back.W.tobytes() == once.W.tobytes()
    np.testing.assert_array_equal(back.steps, once.steps)
    np.testing.assert_array_equal(back.loss, once.loss)


def _extend_setup(tmp: Path) -> None:
    train(load_example(), steps=50, checkpoint=tmp / "ck.npz", prediction=predict(load_example()))


def _no_pickle_hint(_tmp: Path, text: str) -> None:
    assert "allow_pickle" not in text


@dataclass(frozen=True)
class Row:
    """One hostile input: ``argv`` (``{tmp}`` is the test's directory), the exit code, a fragment."""

    id: str
    argv: list[str]
    code: int
    fragment: str
    setup: Callable[[Path], None] | None = None
    check: Callable[[Path, str], None] | None = None
    env: dict[str, str] = field(default_factory=dict)
    stdin: bytes | None = None
    patch: Callable[[pytest.MonkeyPatch], None] | None = None
    during: Callable[[Path], contextlib.AbstractContextManager[object]] | None = None
    timeout: int = 120


EX = ["--example", "default"]
TRAIN = ["train", *EX, "--no-progress"]
REGPATH = [*TRAIN, "--method", "regpath", "--radii", "1", "10"]
CK = ["--checkpoint", "{tmp}/ck.npz"]
K_WORDS = [f"t{i}" for i in range(3)]

CLI_ROWS = [
    # -- runs that lose work: outputs checked before the run, named as given -------------------
    Row("out is a file", [*TRAIN, "--steps", "3000", *CK, "--out", "{tmp}/f"], 2,
        "--out {tmp}/f: a file is in the way", _file("f", ""), _absent("ck.npz")),
    Row("out under /proc", [*TRAIN, "--steps", "3000", *CK, "--out", "/proc/symattn-test/out"], 2,
        "--out /proc/symattn-test/out: cannot create the directory", check=_absent("ck.npz")),
    Row("out under /sys (read-only for us)", [*TRAIN, "--steps", "3000", *CK, "--out", "/sys/symattn-test"], 2,
        "--out /sys/symattn-test: cannot create the directory", check=_absent("ck.npz")),
    Row("checkpoint under /proc named as given", [*TRAIN, "--steps", "3000", "--checkpoint", "/proc/self/ck.npz"],
        2, "--checkpoint /proc/self/ck.npz", check=_no_tmp),
    Row("checkpoint is a directory", [*TRAIN, "--steps", "5", "--checkpoint", "{tmp}"], 2,
        "a directory is in the way"),
    Row("dataset name read as mathtext", ["train", "{tmp}/bad$\\frac{$.txt", "--steps", "5", "--no-progress",
        "--out", "{tmp}/o"], 0, "trajectory.png", _file("bad$\\frac{$.txt", EXAMPLE), _png),
    Row("second writer of one --out", [*TRAIN, "--steps", "5", "--out", "{tmp}/out"], 2,
        f"--out {{tmp}}/out is in use by another symattn run (process {os.getpid()}", during=_another_run_holds_out),
    Row("finished run extended with more --steps", [*TRAIN, "--steps", "120", *CK, "--out", "{tmp}/o",
        "--no-plot"], 0, "status: completed", _extend_setup, _extended_like_one_run),
    Row("regpath --checkpoint", [*REGPATH, *CK], 2, "--checkpoint apply to --method gd and ngd"),
    Row("regpath --time-budget", [*REGPATH, "--time-budget", "0"], 1, "reason: stopped by the time budget"),
    Row("regpath --steps", [*REGPATH, "--steps", "5"], 2, "steps=5 does not apply to method='regpath'"),
    Row("regpath --lr", [*REGPATH, "--lr", "3"], 2, "lr=3.0 does not apply to method='regpath'"),
    Row("regpath --init", [*REGPATH, "--init", "gaussian"], 2, "init='gaussian' does not apply"),
    Row("regpath --scale", [*REGPATH, "--scale", "2"], 2, "scale=2.0 does not apply"),
    Row("regpath --seed", [*REGPATH, "--seed", "3"], 2, "seed=3 does not apply"),
    Row("regpath saved config", [*REGPATH, "--out", "{tmp}/o", "--no-plot"], 0, "status: completed",
        check=_regpath_config),
    Row("gd --radii", [*TRAIN, "--radii", "1", "10"], 2, "radii=(1.0, 10.0) does not apply to method='gd'"),
    Row("ngd --radii", [*TRAIN, "--method", "ngd", "--radii", "5"], 2, "radii=(5.0,) does not apply"),
    Row("interrupted run says why (JSON)", [*TRAIN, "--time-budget", "0", "--json"], 1,
        '"message": "stopped by the time budget of 0 s at step 0 of 1000'),
    # -- untyped crashes and silent wrong results ------------------------------------------------
    Row("token id 10**30", ["analyze", "{tmp}/d.json"], 2, "token 1000000000000000000000000000000 is out of range",
        _file("d.json", _json_dataset(3, [{"tokens": [0, 10**30], "label": 0}]))),
    Row("label 2**63", ["analyze", "{tmp}/d.json"], 2, "label 9223372036854775808 is out of range",
        _file("d.json", _json_dataset(3, [{"tokens": [0, 1], "label": 2**63}]))),
    Row("vocab 1000000 (analyze)", ["analyze", "{tmp}/d.json"], 2, "K=1,000,000 needs 7.28 TiB",
        _file("d.json", _json_dataset(10**6, [{"tokens": [0, 1], "label": 0}]))),
    Row("vocab 1000000 (train)", ["train", "{tmp}/d.json", "--steps", "2", "--no-progress"], 2,
        "K=1,000,000 needs 7.28 TiB", _file("d.json", _json_dataset(10**6, [{"tokens": [0, 1], "label": 0}]))),
    Row("vocab 20000 (train)", ["train", "{tmp}/d.json", "--steps", "2", "--no-progress"], 2,
        "K=20,000 needs 2.98 GiB", _file("d.json", _json_dataset(20000, [{"tokens": [0, 1], "label": 0}]))),
    Row("--steps 10**30", [*TRAIN, "--steps", str(10**30)], 2, "steps=1000000000000000000000000000000 must be"),
    Row("reproduce --seed -1", ["reproduce", "--trials", "1", "--steps", "5", "--seed", "-1", "--no-progress"], 2,
        "seed=-1 must be a non-negative integer"),
    Row("checkpoint a plain .npy", [*TRAIN, "--steps", "5", *CK], 2, "not a readable .npz archive", _npy),
    Row("checkpoint /dev/null", [*TRAIN, "--steps", "5", "--checkpoint", "/dev/null"], 2,
        "--checkpoint /dev/null: a character device is in the way"),
    Row("checkpoint missing keys", [*TRAIN, "--steps", "5", *CK], 2, "missing ['format'",
        _checkpoint(_only_w)),
    Row("checkpoint bad config JSON", [*TRAIN, "--steps", "5", *CK], 2, "config is not valid JSON",
        _checkpoint(_set("config", "{not json"))),
    Row("checkpoint vector step", [*TRAIN, "--steps", "5", *CK], 2, "step must be one integer",
        _checkpoint(_set("step", [1, 2]))),
    Row("checkpoint step -10", [*TRAIN, "--steps", "5", *CK], 2, "step must be one integer in [0",
        _checkpoint(_set("step", -10))),
    Row("checkpoint step 1e15", [*TRAIN, "--steps", "5", *CK], 2, "step must be one integer in [0",
        _checkpoint(_set("step", 10**15))),
    Row("checkpoint records of uneven length", [*TRAIN, "--steps", "5", *CK], 2, "must be 1-D of one length",
        _checkpoint(lambda a: a.__setitem__("loss", a["loss"][:-1]))),
    Row("checkpoint with complex W", [*TRAIN, "--steps", "5", *CK], 2, "complex entries",
        _checkpoint(lambda a: a.__setitem__("W", a["W"] + 1j))),
    Row("checkpoint zip bomb", [*TRAIN, "--steps", "5", *CK], 2,
        "above the limit of 1 MiB for arrays (.npy/.npz, uncompressed); raise the limit with the environment "
        "variable SYMATTN_MAX_ARRAY_BYTES", _zip_bomb, env={"SYMATTN_MAX_ARRAY_BYTES": str(2**20)}),
    Row("checkpoint with pickled objects", [*TRAIN, "--steps", "5", *CK], 2, "never unpickles", _pickled,
        _no_pickle_hint),
    Row("squared loss, --lr 1e200", [*TRAIN, "--loss", "squared", "--lr", "1e200", "--steps", "50"], 1,
        "the step size lr=1e+200 is too large for loss='squared'"),
    Row("ngd, gaussian --scale 1e200", [*TRAIN, "--method", "ngd", "--init", "gaussian", "--scale", "1e200"], 2,
        "scale=1e+200 gives W(0) with ||W(0)||_F = inf"),
    Row("--lr 1e308", [*TRAIN, "--lr", "1e308", "--steps", "50"], 1, "the step size lr=1e+308 is too large"),
    Row("token name with ->", ["analyze", "{tmp}/d.json"], 2, "'a->b' at position 0 contains whitespace, '#' or '->'",
        _file("d.json", _json_dataset(["a->b", "c"], [{"tokens": ["c", "a->b"], "label": "c"}]))),
    Row("token name starting vocab:", ["analyze", "{tmp}/d.json"], 2, "starts with 'vocab:'",
        _file("d.json", _json_dataset(["vocab:x", "c"], [{"tokens": ["c", "vocab:x"], "label": "c"}]))),
    # -- unbounded resources -----------------------------------------------------------------------
    Row("dataset /dev/zero", ["analyze", "/dev/zero"], 2, "/dev/zero: a character device, not a regular file"),
    Row("dataset /dev/urandom", ["analyze", "/dev/urandom"], 2, "/dev/urandom: a character device"),
    Row("dataset a FIFO", ["analyze", "{tmp}/fifo"], 2, "{tmp}/fifo: a FIFO (named pipe), not a regular file",
        _fifo("fifo"), timeout=30),
    Row("checkpoint a FIFO", [*TRAIN, "--steps", "5", *CK], 2, "--checkpoint {tmp}/ck.npz: a FIFO (named pipe)",
        _fifo("ck.npz"), timeout=30),
    Row("dataset a directory", ["analyze", "{tmp}"], 2, "a directory, not a regular file"),
    Row("dataset above the size limit", ["analyze", "{tmp}/d.txt"], 2,
        "above the limit of 100 bytes for dataset files; raise the limit with the environment variable "
        "SYMATTN_MAX_DATASET_BYTES", _file("d.txt", EXAMPLE * 3), env={"SYMATTN_MAX_DATASET_BYTES": "100"}),
    Row("--records 1000000000", [*TRAIN, "--steps", "10", "--records", "1000000000"], 2,
        "records=1000000000 must be a non-negative integer of at most 1,000 per decade"),
    # -- small things people notice ---------------------------------------------------------------
    Row("files keep the umask", [*TRAIN, "--steps", "5", "--out", "{tmp}/o", "--no-plot"], 0, "wrote",
        check=_umask_respected),
    Row("control characters in names", ["analyze", "{tmp}/d.json"], 2, "holds a control character",
        _file("d.json", _json_dataset(["\x1b[31mred", "b"], [{"tokens": ["b", "\x1b[31mred"], "label": "b"}]))),
    Row("bidirectional override escaped", ["analyze", "{tmp}/d.json"], 0, "\\u202e",
        _file("d.json", _json_dataset(["x\u202e", "b"], [{"tokens": ["b", "x\u202e"], "label": "b"}])), _escaped),
    Row("UTF-8 BOM", ["analyze", "{tmp}/d.txt", "--json"], 0, '"vocab"', _file("d.txt", "\ufeffa b -> a\n"),
        _bom_stripped),
    Row("--version", ["--version"], 0, "symattn 0.1.0"),
    Row("reproduce options have help", ["reproduce", "--help"], 0, "number of random datasets (default 10)"),
    Row("usage shows the dataset as required", ["train", "--help"], 0, "usage: symattn train (DATA | --example"),
    Row("- reads standard input", ["analyze", "-"], 0, "query q: 3 tokens", stdin=b"x y q -> x\ny q -> y\n"),
    Row("--steps 1e2", [*TRAIN, "--steps", "1e2"], 0, "status: completed"),
    Row("-v for analyze", ["-v", "analyze", *EX], 0, "symattn: graph-SVM: optimal, certified"),
    Row("-v for train", ["-v", *TRAIN, "--steps", "5"], 0, "symattn: train gd on n=12, d=6: steps 0 to 5"),
    Row("reproduce --out without matplotlib", ["reproduce", "--trials", "1", "--steps", "5", "--radii", "2",
        "--no-progress", "--out", "{tmp}/r"], 0, "no figures", check=_reproduce_json, patch=_no_matplotlib),
]


@pytest.mark.parametrize("row", [pytest.param(r, id=r.id, marks=pytest.mark.timeout(r.timeout)) for r in CLI_ROWS])
def test_cli_row(row: Row, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    if row.setup is not None:
        row.setup(tmp_path)
    for key, value in row.env.items():
        monkeypatch.setenv(key, value)
    if row.stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(row.stdin)))
    if row.patch is not None:
        row.patch(monkeypatch)
    old = os.umask(0o022)
    try:
        with row.during(tmp_path) if row.during is not None else contextlib.nullcontext():
            code = main([a.replace("{tmp}", str(tmp_path)) for a in row.argv])
    finally:
        os.umask(old)
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert code == row.code, text
    assert row.fragment.replace("{tmp}", str(tmp_path)) in text, text
    assert "Traceback" not in text
    if row.check is not None:
        row.check(tmp_path, text)


# -- rows about processes and signals ------------------------------------------------------------
def _start(argv: list[str], cwd: Path, **kw: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "symattn", *argv], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, **kw,  # type: ignore[call-overload]
    )


def _wait_for(path: Path, process: subprocess.Popen[str], limit: float = 120.0) -> None:
    """Until ``path`` exists (the first periodic checkpoint), never a fixed sleep."""
    deadline = time.monotonic() + limit
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no checkpoint appeared"
        time.sleep(0.02)


LONG = ["train", *EX, "--steps", "2000000", "--no-progress", "--checkpoint-every", "0.2"]


@pytest.mark.timeout(300)
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_mid_run_writes_checkpoint_and_out(tmp_path: Path, signum: int):
    ck, out = tmp_path / "ck.npz", tmp_path / "out"
    process = _start([*LONG, "--checkpoint", str(ck), "--out", str(out), "--no-plot"], tmp_path)
    _wait_for(ck, process)
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "reason: interrupted at step" in stdout and "Traceback" not in stderr
    assert f"stopped by {signal.Signals(signum).name}" in stderr
    saved = Trajectory.load(out / "trajectory.npz")
    assert saved.status.value == "interrupted" and saved.message.startswith("interrupted at step")
    assert int(read_npz(ck)["step"]) == int(saved.steps[-1])
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["ck.npz", "out", "trajectory.json", "trajectory.npz"]


@pytest.mark.timeout(300)
def test_repeated_ctrl_c_while_saving_leaves_no_traceback_and_no_temporary_file(tmp_path: Path):
    ck = tmp_path / "ck.npz"
    process = _start([*LONG, "--checkpoint", str(ck), "--out", str(tmp_path / "out"), "--no-plot"], tmp_path)
    _wait_for(ck, process)
    for _ in range(8):
        process.send_signal(signal.SIGINT)
        time.sleep(0.01)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert not [p.name for p in tmp_path.rglob("*.tmp")]
    assert Trajectory.load(tmp_path / "out" / "trajectory.npz").status.value == "interrupted"


@pytest.mark.timeout(120)
def test_ctrl_c_while_the_command_starts(tmp_path: Path):
    # The console script imports symattn before main() runs; a Ctrl-C arriving while networkx is
    # being imported (inside ``import symattn``) must not print a traceback.
    code = (
        "import signal, sys\n"
        "sys.argv[0] = 'symattn'\n"
        "class Hook:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'networkx':\n"
        "            signal.raise_signal(signal.SIGINT)\n"
        "sys.meta_path.insert(0, Hook())\n"
        "from symattn.cli import main\n"
        "sys.exit(main(['demo']))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 130, result.stderr
    assert result.stderr == "symattn: interrupted while starting; nothing was done\n"


@pytest.mark.timeout(300)
def test_two_runs_on_one_out_never_mix_their_files(tmp_path: Path):
    out = tmp_path / "out"
    runs = [_start(["train", *EX, "--steps", str(steps), "--no-progress", "--no-plot", "--out", str(out)], tmp_path)
            for steps in (3000, 3001)]
    results = [(run.wait(timeout=300), run.communicate()[1]) for run in runs]
    codes = sorted(code for code, _ in results)
    assert codes in ([0, 0], [0, 2]), results
    if codes == [0, 2]:
        assert any("is in use by another symattn run (process" in err for _, err in results)
    summary = json.loads((out / "trajectory.json").read_text())
    arrays = Trajectory.load(out / "trajectory.npz")
    assert summary["config"]["steps"] == arrays.config.steps == int(arrays.steps[-1])
    assert sorted(p.name for p in out.iterdir()) == ["trajectory.json", "trajectory.npz"]


def _resume_after(signum: int, tmp_path: Path, steps: int = 6000) -> tuple[bytes, bytes, int]:
    """Kill a run with ``signum`` after its first periodic checkpoint, resume it; W bytes of the
    resumed run and of an uninterrupted one, and the step the killed run had saved."""
    ck = tmp_path / "ck.npz"
    argv = ["train", *EX, "--steps", str(steps), "--no-progress", "--checkpoint", str(ck)]
    process = _start([*argv, "--checkpoint-every", "0.2"], tmp_path)
    _wait_for(ck, process)
    process.send_signal(signum)
    process.communicate(timeout=120)
    saved = int(read_npz(ck)["step"])
    assert 0 < saved < steps, "the run was not stopped mid-way"
    resumed = subprocess.run(
        [sys.executable, "-m", "symattn", "-v", *argv, "--out", str(tmp_path / "out"), "--no-plot"],
        cwd=ROOT, capture_output=True, text=True, check=False, timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming from {ck} at step {saved}" in resumed.stderr
    once = train(load_example(), steps=steps)
    return Trajectory.load(tmp_path / "out" / "trajectory.npz").W.tobytes(), once.W.tobytes(), saved


@pytest.mark.timeout(600)
@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_killed_run_resumes_to_a_bit_identical_end(tmp_path: Path, signum: int):
    resumed, once, _ = _resume_after(signum, tmp_path)
    assert resumed == once


# -- library calls -----------------------------------------------------------------------------
API_ROWS = [
    ("name containing ->", lambda: Vocabulary.from_names(["a->b"]), "contains whitespace, '#' or '->'"),
    ("name starting vocab:", lambda: Vocabulary.from_names(["vocab:x"]), "starts with 'vocab:'"),
    ("name with an ANSI escape", lambda: Vocabulary.from_names(["\x1b[2J"]), "holds a control character"),
    ("token id 10**30", lambda: Dataset.from_samples([([0, 10**30], 0)], vocab=3), "is out of range"),
    ("complex W0", lambda: train(load_example(), steps=2, W0=np.zeros((6, 6)) + 1j), "complex entries"),
    ("complex W in the loss", lambda: loss(load_example(), np.zeros((6, 6)) + 1j), "complex entries"),
    ("scale without a Gaussian init", lambda: train(load_example(), steps=2, scale=3.0), "init='gaussian' only"),
    ("radii under gd", lambda: train(load_example(), radii=(1.0,)), "does not apply to method='gd'"),
    ("checkpoint under regpath", lambda: train(load_example(), method="regpath", radii=(1.0,), checkpoint="c.npz"),
     "applies to gd and ngd"),
]


@pytest.mark.parametrize(("call", "fragment"), [r[1:] for r in API_ROWS], ids=[r[0] for r in API_ROWS])
def test_api_row(call: Callable[[], object], fragment: str):
    with pytest.raises(InvalidInput) as info:
        call()
    assert fragment in str(info.value)


def test_trajectory_files_keep_the_message(tmp_path: Path):
    traj = regularization_path(load_example(), [1.0, 1e9])
    assert traj.message.startswith("the path solve did not converge at R=1e+09")
    back = Trajectory.load(traj.save(tmp_path)[0])
    assert back.message == traj.message and back.status is traj.status


def test_vocab_header_is_read_in_linear_time(tmp_path: Path):
    names = [f"w{i}" for i in range(20000)]
    lines = [f"{names[i]} {names[-1 - i]} {names[i]} -> {names[i]}" for i in range(10000)]
    plain, header = tmp_path / "plain.txt", tmp_path / "header.txt"
    plain.write_text("\n".join(lines) + "\n")
    header.write_text("vocab: " + " ".join(names) + "\n" + "\n".join(lines) + "\n")
    timings = []
    for path in (plain, header):
        start = time.perf_counter()
        load_dataset(path)
        timings.append(time.perf_counter() - start)
    assert timings[1] <= 5 * timings[0] + 0.5, timings


# Names built from the pieces the text form treats specially, and any text at all.
_PIECES = st.sampled_from(["a", "b", "->", "-", ">", "vocab:", ":", "#", "\ufeff", "\u200b", "é", "\u202e"])
accepted_names = (st.lists(_PIECES, min_size=1, max_size=4).map("".join) | st.text(min_size=1, max_size=8)).filter(
    lambda s: _accepted(s)
)


def _accepted(name: str) -> bool:
    try:
        Vocabulary.from_names([name])
    except InvalidInput:
        return False
    return True


@given(st.lists(accepted_names, min_size=1, max_size=5, unique=True))
def test_every_accepted_name_survives_a_text_round_trip(tmp_path_factory: pytest.TempPathFactory, names: list[str]):
    ds = Dataset.from_samples([(names, names[0])], vocab=names)
    path = save_dataset(ds, tmp_path_factory.mktemp("names") / "d.txt")
    assert load_dataset(path) == ds


# -- the documentation rows (tests/test_docs.py runs every example and compares its output) -------
def _python_blocks(page: str) -> str:
    text = (ROOT / "docs" / page).read_text()
    return "\n".join(re.findall(r"```python\n(.*?)```", text, flags=re.S))


def test_svm_page_snippet_runs():
    exec(compile(_python_blocks("svm.md"), "svm.md", "exec"), {})  # the page's own example


@pytest.mark.parametrize(
    ("page", "present", "absent"),
    [
        ("cli.md", "reason: stopped by the time budget", None),
        ("training.md", "$ symattn reproduce --no-progress", "about 20 s"),
        ("formats.md", "without `->` anywhere, not starting with `vocab:`", "Every problem raises"),
        ("training.md", "for `reproduce`, `reproduce.json`", None),
    ],
    ids=["cli reason line", "training table and timing", "formats name rules", "figures without matplotlib"],
)
def test_documentation_rows(page: str, present: str, absent: str | None):
    text = " ".join((ROOT / "docs" / page).read_text().split())
    assert " ".join(present.split()) in text
    assert absent is None or absent not in text
