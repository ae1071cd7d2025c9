"""Dask sweeps: a local cluster of 2 worker processes reaches the serial run's verdict, example for example."""

from __future__ import annotations

import sys

import pytest

from symattn.conjecture import ConjectureStatus, check_conjecture
from symattn.conjecture.declare import load_conjecture
from symattn.conjecture.sweep import sweep_conjecture
from symattn.errors import InvalidInput

distributed = pytest.importorskip("distributed", reason="sweeps need the optional extra 'sweep' (dask[distributed])")

CONJECTURES = '''
from symattn import solve_graph_svm
from symattn.conjecture import conjecture


def svm_is_zero(ds):
    assert solve_graph_svm(ds).norm == 0, "W^svm is not zero"


def no_triple(ds):
    assert ds.counts.count.max() < 3, "a token occurs three times in a sample"


@conjecture(strategy="uniform")
def short(ds):
    assert ds.lengths.max() < 5, "a long sample"


def holds(ds):
    return len(ds) >= 1
'''


@pytest.fixture(scope="module")
def user_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("sweep") / "conjectures.py"
    path.write_text(CONJECTURES, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  scheduler_kwargs={"dashboard_address": ":0"}, silence_logs=50) as local:
        yield local


def same_verdict(a, b) -> None:
    assert (a.status, a.tried, a.message, a.kinds, a.strategy) == (b.status, b.tried, b.message, b.kinds, b.strategy)
    if a.counterexample is None:
        assert b.counterexample is None
    else:
        assert a.counterexample.dataset == b.counterexample.dataset
        assert a.counterexample.shrink_steps == b.counterexample.shrink_steps


@pytest.mark.parametrize(("name", "seed"), [("svm_is_zero", 3), ("short", 1), ("holds", 0)])
def test_a_sweep_on_two_workers_reaches_the_serial_verdict(user_file, cluster, name, seed):
    conj = load_conjecture(f"{user_file}::{name}")
    serial = check_conjecture(conj, examples=90, seed=seed, batch_size=30)
    swept = sweep_conjecture(conj, examples=90, seed=seed, batch_size=30, scheduler=cluster.scheduler_address)
    same_verdict(serial, swept)
    assert swept.workers == 2 and serial.workers == 0


def test_a_later_batch_failure_waits_for_the_earlier_batches(user_file, cluster):
    conj = load_conjecture(f"{user_file}::no_triple")
    first = {s: check_conjecture(conj, examples=200, seed=s, batch_size=2, shrink=False) for s in range(10)}
    seed = next(s for s, r in first.items() if r.counterexample.batch >= 2)
    serial = check_conjecture(conj, examples=200, seed=seed, batch_size=2)
    assert serial.counterexample.batch == first[seed].counterexample.batch
    swept = sweep_conjecture(conj, examples=200, seed=seed, batch_size=2, scheduler=cluster.scheduler_address)
    same_verdict(serial, swept)


def test_a_local_cluster_of_two_processes_and_a_catalogue_conjecture():
    conj = load_conjecture("catalogue:label-top-scc")
    progress = []
    swept = sweep_conjecture(conj, examples=60, seed=0, batch_size=20, workers=2, progress=progress.append)
    serial = check_conjecture(conj, examples=60, seed=0, batch_size=20)
    same_verdict(serial, swept)
    assert swept.status is ConjectureStatus.SURVIVED and swept.workers == 2 and sum(progress) == 60


def test_sweep_arguments_are_checked(monkeypatch):
    for kwargs in ({}, {"workers": 2, "scheduler": "tcp://x:1"}, {"workers": 0}, {"scheduler": ""}):
        with pytest.raises(InvalidInput):
            sweep_conjecture(lambda ds: True, examples=1, **kwargs)
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    with pytest.raises(InvalidInput, match="pip install 'symattn\\[sweep\\]'"):
        sweep_conjecture(lambda ds: True, examples=1, workers=1)
