"""An independent PyTorch trainer checked by ``verify_weights``: correct variants pass, buggy ones fail.

tests/torch_reference.py implements the model from the formulas without symattn's code; it is
first checked against symattn's model (two implementations written apart must agree), then its
weights are judged. The CI runs short trainings on one published dataset; the thorough profile
(``--hypothesis-profile=thorough``) runs the whole table of docs/verifying.md: every variant on
every published dataset.
"""

import numpy as np
import pytest
from hypothesis import settings

from symattn import Model, predict
from symattn.reproduce import random_cyclic_dataset
from symattn.verify import Verdict
from symattn.verify.weights import verify_weights

torch = pytest.importorskip("torch", reason="the PyTorch reference trainer needs the bench extra (torch)")
import torch_reference as tr  # noqa: E402  (needs torch)

THOROUGH = settings().max_examples >= 1000


def published(trial):
    rng = np.random.default_rng(0)
    for _ in range(trial + 1):
        ds = random_cyclic_dataset(seed=rng)
    return ds


def parts(ds):
    return [list(s.tokens) for s in ds], [s.label for s in ds], ds.embeddings.matrix()


@pytest.fixture(scope="module")
def trial1():
    ds = published(1)
    return ds, predict(ds)


@pytest.mark.parametrize("kind", tr.LOSSES)
def test_reference_agrees_with_symattn(trial1, kind):
    ds, _ = trial1
    toks, labs, E = parts(ds)
    W = np.random.default_rng(2).normal(size=(8, 8))
    value, grad = Model(ds, kind).value_and_gradient(W)
    v, g = tr.loss_and_gradient(W, toks, labs, E, kind=kind)
    assert v == pytest.approx(value, rel=1e-12)
    assert np.allclose(g, grad, rtol=0, atol=1e-12 * max(1.0, np.abs(grad).max()))


def test_reference_bugs_do_what_they_say(trial1):
    ds, _ = trial1
    toks, labs, E = parts(ds)
    W = np.random.default_rng(3).normal(size=(8, 8))
    v, g = tr.loss_and_gradient(W, toks, labs, E)
    vs, gs = tr.loss_and_gradient(W, toks, labs, E, bugs=tr.Bugs(reduction="sum"))
    assert vs == pytest.approx(len(ds) * v) and np.allclose(gs, len(ds) * g)
    vt, gt = tr.loss_and_gradient(W.T, toks, labs, E, bugs=tr.Bugs(transpose=True))
    assert vt == pytest.approx(v) and np.allclose(gt, g.T)
    flipped = [[*x[1:], x[0]] for x in toks]
    vq, _ = tr.loss_and_gradient(W, toks, labs, E, bugs=tr.Bugs(query="first"))
    assert vq == pytest.approx(tr.loss_and_gradient(W, flipped, labs, E)[0])


def test_one_position_differs_only_on_repeated_labels():
    E = np.eye(3)
    W = np.random.default_rng(4).normal(size=(3, 3))
    plain = ([[0, 1, 2]], [0])
    repeated = ([[0, 1, 0, 2]], [0])
    one = tr.Bugs(label="one")
    assert tr.loss_and_gradient(W, *plain, E, bugs=one)[0] == pytest.approx(tr.loss_and_gradient(W, *plain, E)[0])
    assert tr.loss_and_gradient(W, *repeated, E, bugs=one)[0] > tr.loss_and_gradient(W, *repeated, E)[0] + 0.1


CI_VARIANTS = {
    "ngd": ({}, "pass"),
    "ngd float32": ({"dtype": torch.float32}, "pass"),
    "wrong query position": ({"bugs": tr.Bugs(query="first")}, "fail"),
    "transposed W": ({"bugs": tr.Bugs(transpose=True)}, "fail"),
    "labels redrawn": ({"bugs": tr.Bugs(redraw_labels=1)}, "fail"),
}


@pytest.mark.parametrize("name", list(CI_VARIANTS))
def test_short_torch_runs(trial1, name):
    ds, pred = trial1
    options, expected = CI_VARIANTS[name]
    W = tr.train(*parts(ds), method="ngd", lr=0.01, steps=1500, **options)
    rep = verify_weights(ds, torch.from_numpy(W), prediction=pred)
    assert rep.verdict.value == expected, rep.checks
    if expected == "fail":
        assert any(c.passed is False and c.name != "norm" for c in rep.checks)


TABLE = {
    "ngd": ({"method": "ngd", "lr": 0.01, "steps": 4000}, Verdict.PASS),
    "gd": ({"method": "gd", "lr": 1.0, "steps": 20000}, Verdict.PASS),
    "ngd float32": ({"method": "ngd", "lr": 0.01, "steps": 4000, "dtype": torch.float32}, Verdict.PASS),
    "gd float32": ({"method": "gd", "lr": 1.0, "steps": 20000, "dtype": torch.float32}, Verdict.PASS),
    "wrong query position": ({"method": "ngd", "lr": 0.01, "steps": 4000, "bugs": tr.Bugs(query="first")},
                             Verdict.FAIL),
    "transposed W": ({"method": "ngd", "lr": 0.01, "steps": 4000, "bugs": tr.Bugs(transpose=True)}, Verdict.FAIL),
    "labels redrawn": ({"method": "ngd", "lr": 0.01, "steps": 4000, "bugs": tr.Bugs(redraw_labels=1)},
                       Verdict.FAIL),
}


@pytest.mark.skipif(not THOROUGH, reason="the whole table runs under --hypothesis-profile=thorough (minutes)")
@pytest.mark.parametrize("trial", range(10))
@pytest.mark.parametrize("name", list(TABLE))
def test_published_table(trial, name):
    ds = published(trial)
    options, expected = TABLE[name]
    W = tr.train(*parts(ds), **options)
    assert verify_weights(ds, W).verdict is expected
