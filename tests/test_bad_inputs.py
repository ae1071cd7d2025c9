"""The library's rows of the hostile-input review (issue 10): ``API_ROWS`` call the library directly.

The command's rows (``CLI_ROWS``: input -> exit code -> message) and the runs stopped by signals
live with their command, in ``tests/test_cli_<command>.py``; ``tests/cli_support.py`` runs a row.
"""

from __future__ import annotations

import re
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import sparse

from symattn import (
    Dataset,
    Embeddings,
    Vocabulary,
    automaton,
    finite_bound,
    load_dataset,
    load_example,
    predict,
    reduced_loss,
    save_dataset,
    train,
)
from symattn.errors import InvalidInput
from symattn.model import loss
from symattn.scores import entry_potentials, pair_potentials
from symattn.train import Trajectory, regularization_path

ROOT = Path(__file__).resolve().parents[1]


# -- library calls -----------------------------------------------------------------------------
_MILLION = 10**6


def _million() -> Dataset:
    """Three tokens in use out of 10**6 (one-hot): any dense K x K array would need 7.28 TiB."""
    return Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=_MILLION)


def _dense_million() -> np.ndarray:
    """A dense (10**6, 10**6) W that takes no memory (a broadcast view): refused before any copy."""
    return np.broadcast_to(0.0, (_MILLION, _MILLION))


def _entries(rows: list[int], cols: list[int], values: object, size: int = 6) -> sparse.coo_matrix:
    return sparse.coo_matrix((values, (rows, cols)), shape=(size, size))


def _corrupt(field: str, at: int, value: int) -> sparse.spmatrix:
    """The identity with one index array entry overwritten after construction (SciPy does not check)."""
    W = sparse.coo_matrix(np.eye(6)) if field == "row" else sparse.csr_matrix(np.eye(6))
    getattr(W, field)[at] = value
    return W


def _np_matrix() -> np.matrix:
    with warnings.catch_warnings():  # numpy discourages the matrix class; callers still pass one
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        return np.asmatrix(np.eye(3))


_DENSE_FIX = "pass it as a SciPy sparse matrix holding its nonzero entries"
_ONEHOT3, _EYE3 = Embeddings.onehot(3), sparse.eye(3, format="csc")

API_ROWS = [
    ("dense W at K=10**6 (entry_potentials)", lambda: entry_potentials(_million(), _dense_million()), _DENSE_FIX),
    ("dense W at K=10**6 (finite_bound)", lambda: finite_bound(_million(), _dense_million()), _DENSE_FIX),
    ("dense W at K=10**6 (attend)", lambda: automaton(_million()).attend([0, 1, 2], _dense_million()), _DENSE_FIX),
    ("sparse W at K=10**6 where a dense one is formed",
     lambda: predict(_million()).project_fin(sparse.eye(_MILLION, format="csc")),
     "d=1,000,000 needs 7.28 TiB for each, above the limit"),
    ("NaN stored in a sparse W", lambda: reduced_loss(load_example(), _entries([2], [4], [np.nan])),
     "W[2, 4] = nan (a stored entry of the sparse W"),
    ("repeated sparse entries summing to inf",
     lambda: entry_potentials(load_example(), _entries([1, 1], [3, 3], [1e308, 1e308])),
     "W[1, 3] = inf (a stored entry of the sparse W, repeated entries summed)"),
    ("sparse W of the wrong shape in pair_potentials",
     lambda: pair_potentials(_ONEHOT3, sparse.eye(2, format="csc"), np.array([2]), np.array([0])),
     "got csc_matrix of shape (2, 2), dtype float64; pass check_weights(W, 3, sparse_ok=True)"),
    ("complex sparse W in pair_potentials",
     lambda: pair_potentials(_ONEHOT3, _EYE3 * 1j, np.array([0]), np.array([0])), "dtype complex128"),
    ("int8 sparse W in pair_potentials (repeats would wrap)",
     lambda: pair_potentials(_ONEHOT3, _entries([0, 0], [1, 1], np.array([100, 100], dtype=np.int8), 3),
                             np.array([0]), np.array([1])), "dtype int8; pass check_weights(W, 3, sparse_ok=True)"),
    ("numpy matrix W in pair_potentials",
     lambda: pair_potentials(_ONEHOT3, _np_matrix(), np.array([0]), np.array([0])),
     "got matrix of shape (3, 3)"),
    ("list W in pair_potentials",
     lambda: pair_potentials(_ONEHOT3, np.eye(3).tolist(), np.array([0]), np.array([0])), "got list;"),
    ("sparse W with an index beyond its shape",
     lambda: entry_potentials(load_example(), _corrupt("indices", 0, 9)), "W is a malformed sparse csr matrix"),
    ("sparse W with a decreasing indptr",
     lambda: entry_potentials(load_example(), _corrupt("indptr", 1, 5)), "indptr must be a non-decreasing"),
    ("COO W with a row beyond its shape",
     lambda: reduced_loss(load_example(), _corrupt("row", 0, 6)), "W is a malformed sparse coo matrix"),
    ("W None", lambda: reduced_loss(load_example(), None), "W=None is not a matrix; pass a (6, 6) array"),
    ("token id K in pair_potentials", lambda: pair_potentials(_ONEHOT3, _EYE3, np.array([3]), np.array([0])),
     "tokens holds ids outside 0..2 (K=3)"),

    ("name containing ->", lambda: Vocabulary.from_names(["a->b"]), "contains whitespace, '#' or '->'"),
    ("name starting vocab:", lambda: Vocabulary.from_names(["vocab:x"]), "starts with 'vocab:'"),
    ("name with an ANSI escape", lambda: Vocabulary.from_names(["\x1b[2J"]), "holds a control character"),
    ("token id 10**30", lambda: Dataset.from_samples([([0, 10**30], 0)], vocab=3), "is out of range"),
    ("token None among ints", lambda: Dataset.from_arrays([1, None], [0, 2], [1], vocab=3),
     "int64 range, got dtype object (e.g. None)"),
    ("array token 10**30", lambda: Dataset.from_arrays([10**30, 1], [0, 2], [1], vocab=3),
     "(e.g. 1000000000000000000000000000000)"),
    ("uint64 token 2**63", lambda: Dataset.from_arrays(np.array([2**63, 1], dtype=np.uint64), [0, 2], [1], vocab=3),
     "holds 9223372036854775808, beyond the int64 range"),
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
