"""``symattn train``: JSON and files, the regularisation path, exit codes, hostile inputs, and runs
stopped by signals (the SIGKILL/SIGTERM resume tests compare W bytes against an uninterrupted run)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import stat
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from cli_support import (
    CK,
    EX,
    EXAMPLE,
    HAS_MATPLOTLIB,
    ROOT,
    TRAIN,
    Row,
    fifo_in,
    file_in,
    json_dataset,
    row_params,
    run_row,
)

from symattn import load_example, predict, train
from symattn._io import exclusive, read_npz
from symattn.cli import main
from symattn.train import Trajectory


def test_cli_train_json(capsys, tmp_path):
    code = main(["train", "--example", "default", "--method", "ngd", "--steps", "200", "--no-progress",
                 "--json", "--out", str(tmp_path)])
    assert code == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert np.array(out["W"]).shape == (6, 6)
    for key in ("loss", "norm", "corr_svm", "finite_error", "outside_mass_max"):
        assert key in out["metrics"]
    assert (tmp_path / "trajectory.npz").exists() and (tmp_path / "trajectory.json").exists()
    if HAS_MATPLOTLIB:
        assert (tmp_path / "trajectory.png").stat().st_size > 0
    else:
        assert "no figures" in captured.err and not (tmp_path / "trajectory.png").exists()


def test_cli_train_path_and_bad_input(capsys):
    assert main(["train", "--example", "default", "--method", "regpath", "--radii", "1", "10",
                 "--no-progress"]) == 0
    assert "corr_svm" in capsys.readouterr().out
    assert main(["train", "--example", "default", "--method", "regpath", "--no-progress"]) == 2
    assert "radii" in capsys.readouterr().err


def test_cli_train_exit_codes(capsys, tmp_path):
    assert main(["train", "--example", "default", "--time-budget", "-1", "--no-progress"]) == 2
    assert "time_budget=-1.0" in capsys.readouterr().err
    blocked = tmp_path / "file"
    blocked.write_text("")
    assert main(["train", "--example", "default", "--steps", "2", "--no-progress", "--no-plot",
                 "--out", str(blocked / "x")]) == 2
    assert str(blocked) in capsys.readouterr().err
    assert main(["train", "--example", "default", "--method", "regpath", "--radii", "1e9",
                 "--no-progress"]) == 1
    out = capsys.readouterr().out
    assert "status: not_converged" in out and "reason:" in out and "nothing was recorded" in out


# -- hostile inputs (issue 10): setups -----------------------------------------------------------
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


def _extend_setup(tmp: Path) -> None:
    train(load_example(), steps=50, checkpoint=tmp / "ck.npz", prediction=predict(load_example()))


# -- hostile inputs: checks on disk ---------------------------------------------------------------
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


def _umask_respected(tmp: Path, _text: str) -> None:
    for name in ("trajectory.npz", "trajectory.json"):
        assert stat.S_IMODE((tmp / "o" / name).stat().st_mode) == 0o644, name


def _extended_like_one_run(tmp: Path, _text: str) -> None:
    once = train(load_example(), steps=120)
    back = Trajectory.load(tmp / "o" / "trajectory.npz")
    assert back.W.tobytes() == once.W.tobytes()
    np.testing.assert_array_equal(back.steps, once.steps)
    np.testing.assert_array_equal(back.loss, once.loss)


def _no_pickle_hint(_tmp: Path, text: str) -> None:
    assert "allow_pickle" not in text


REGPATH = [*TRAIN, "--method", "regpath", "--radii", "1", "10"]

CLI_ROWS = [
    # -- runs that lose work: outputs checked before the run, named as given -------------------
    Row("out is a file", [*TRAIN, "--steps", "3000", *CK, "--out", "{tmp}/f"], 2,
        "--out {tmp}/f: a file is in the way", file_in("f", ""), _absent("ck.npz")),
    Row("out under /proc", [*TRAIN, "--steps", "3000", *CK, "--out", "/proc/symattn-test/out"], 2,
        "--out /proc/symattn-test/out: cannot create the directory", check=_absent("ck.npz")),
    Row("out under /sys (read-only for us)", [*TRAIN, "--steps", "3000", *CK, "--out", "/sys/symattn-test"], 2,
        "--out /sys/symattn-test: cannot create the directory", check=_absent("ck.npz")),
    Row("checkpoint under /proc named as given", [*TRAIN, "--steps", "3000", "--checkpoint", "/proc/self/ck.npz"],
        2, "--checkpoint /proc/self/ck.npz", check=_no_tmp),
    Row("checkpoint is a directory", [*TRAIN, "--steps", "5", "--checkpoint", "{tmp}"], 2,
        "a directory is in the way"),
    Row("dataset name read as mathtext", ["train", "{tmp}/bad$\\frac{$.txt", "--steps", "5", "--no-progress",
        "--out", "{tmp}/o"], 0, "trajectory.png", file_in("bad$\\frac{$.txt", EXAMPLE), _png,
        needs=("matplotlib", "the optional plot extra (matplotlib)")),
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
    Row("vocab 1000000 (train)", ["train", "{tmp}/d.json", "--steps", "2", "--no-progress"], 2,
        "K=1,000,000 needs 7.28 TiB", file_in("d.json", json_dataset(10**6, [{"tokens": [0, 1], "label": 0}]))),
    Row("vocab 20000 (train)", ["train", "{tmp}/d.json", "--steps", "2", "--no-progress"], 2,
        "K=20,000 needs 2.98 GiB", file_in("d.json", json_dataset(20000, [{"tokens": [0, 1], "label": 0}]))),
    Row("--steps 10**30", [*TRAIN, "--steps", str(10**30)], 2, "steps=1000000000000000000000000000000 must be"),
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
    # -- unbounded resources -----------------------------------------------------------------------
    Row("checkpoint a FIFO", [*TRAIN, "--steps", "5", *CK], 2, "--checkpoint {tmp}/ck.npz: a FIFO (named pipe)",
        fifo_in("ck.npz"), timeout=30),
    Row("--records 1000000000", [*TRAIN, "--steps", "10", "--records", "1000000000"], 2,
        "records=1000000000 must be a non-negative integer of at most 1,000 per decade"),
    # -- small things people notice ---------------------------------------------------------------
    Row("files keep the umask", [*TRAIN, "--steps", "5", "--out", "{tmp}/o", "--no-plot"], 0, "wrote",
        check=_umask_respected),
    Row("usage shows the dataset as required", ["train", "--help"], 0, "usage: symattn train (DATA | --example"),
    Row("--steps 1e2", [*TRAIN, "--steps", "1e2"], 0, "status: completed"),
]


@pytest.mark.parametrize("row", row_params(CLI_ROWS))
def test_cli_row(row: Row, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    run_row(row, tmp_path, capsys, monkeypatch)


# -- runs as processes, stopped by signals ----------------------------------------------------------
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
