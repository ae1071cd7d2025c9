"""check_gradient against implementations written apart from symattn (NumPy per position, torch autograd)."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from gradient_variants import embedding_head, per_position

from symattn.cases import CASES, known_case
from symattn.errors import InvalidInput
from symattn.model import Loss, Model, direct_loss_and_gradient
from symattn.verify._reference import evaluate
from symattn.verify.gradients import check_gradient

IDENTITY = ("log", "linear", "squared")


def _names(result):
    return [d.name for d in result.diagnoses]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_a_precise_implementation_passes_everywhere(case):
    ds = case.dataset()
    result = check_gradient(ds, lambda W: per_position(ds, W, precise=True))
    assert result.passed, result.message
    assert result.diagnoses == () and result.dtype == "float64"
    assert math.isclose(result.tolerance, math.sqrt(np.finfo(np.float64).eps))
    assert [p.kind for p in result.points][:4] == ["zero", "random", "random", "random"]


@pytest.mark.parametrize("name", ["published-0", "independent-exact", "orthonormal-float", "repeated-tokens",
                                  "dependent-feasible"])
@pytest.mark.parametrize("kind", [k.value for k in Loss])
def test_all_five_losses_with_any_embeddings(name, kind):
    ds = known_case(name).dataset()
    fn = (lambda W: per_position(ds, W, kind)) if kind in IDENTITY else (lambda W: embedding_head(ds, W, kind))
    assert check_gradient(ds, fn, loss=kind, far=()).passed


@pytest.mark.parametrize("name", ["repeated-tokens", "published-1"])
@pytest.mark.parametrize(
    ("switch", "diagnosis"),
    [
        ({"summed": True}, "sum-instead-of-mean"),
        ({"transpose_grad": True}, "transposed-gradient"),
        ({"transpose_model": True}, "transposed-model"),
        ({"one_position": True}, "one-position"),
        ({"first_query": True}, "first-token-query"),
        ({"factor": 0.5}, "constant-factor"),
    ],
)
def test_each_bug_fails_and_is_named(name, switch, diagnosis):
    ds = known_case(name).dataset()
    result = check_gradient(ds, lambda W: per_position(ds, W, precise=True, **switch))
    assert not result.passed
    assert _names(result) == [diagnosis]
    assert not any(p.passed for p in result.points if p.kind == "random")


def test_another_loss_is_named():
    ds = known_case("published-0").dataset()
    result = check_gradient(ds, lambda W: per_position(ds, W, "squared"), loss="log", far=())
    assert _names(result) == ["other-loss"] and "'squared'" in result.diagnoses[0].detail


def test_one_position_loss_differs_only_by_a_constant_for_the_log_loss():
    ds = known_case("repeated-tokens").dataset()
    W = np.random.default_rng(0).standard_normal((3, 3))
    right, wrong = per_position(ds, W), per_position(ds, W, one_position=True)
    counts = [s.tokens.count(s.label) for s in ds]
    assert math.isclose(wrong[0] - right[0], np.mean(np.log(counts)), rel_tol=1e-12)
    assert np.allclose(wrong[1], right[1], rtol=0, atol=1e-15)


def test_textbook_gradient_is_right_near_and_wrong_far():
    ds = known_case("chain").dataset()
    result = check_gradient(ds, lambda W: per_position(ds, W))
    rows = {p.name: p for p in result.points}
    assert _names(result) == ["precision-far-out"]
    assert rows["far-10"].passed and not rows["far-40"].passed and not rows["far-100"].passed
    assert rows["far-40"].log_outside_mass < math.log(np.finfo(np.float64).eps) < rows["far-10"].log_outside_mass
    assert rows["far-40"].loss_error == pytest.approx(1.0) and rows["far-40"].gradient_error >= 0.5


def test_float32_values_get_float32_tolerances_and_far_points():
    ds = known_case("chain").dataset()

    def single(W):
        loss, grad = per_position(ds, W.astype(np.float32).astype(np.float64), precise=True)
        return np.float32(loss), grad.astype(np.float32)

    result = check_gradient(ds, single)
    assert result.dtype == "float32" and math.isclose(result.tolerance, math.sqrt(np.finfo(np.float32).eps))
    assert result.passed, result.message
    assert [p.name for p in result.points if p.kind == "far"] == ["far-4.42", "far-17.7", "far-44.2"]


def test_no_far_points_without_a_far_direction():
    ds = known_case("theory-cyclic").dataset()
    result = check_gradient(ds, lambda W: per_position(ds, W, precise=True))
    assert result.passed and "W^svm = 0" in result.message
    assert all(p.kind != "far" for p in result.points)
    ds = known_case("dependent-infeasible").dataset()
    assert "infeasible" in check_gradient(ds, lambda W: per_position(ds, W, precise=True)).message


def test_given_points_and_checks_rows():
    ds = known_case("chain").dataset()
    W = np.arange(9.0).reshape(3, 3) / 10
    result = check_gradient(ds, lambda W: per_position(ds, W, precise=True), points={"mine": W}, scales=(1.0,),
                            far=(5.0,))
    assert [p.name for p in result.points] == ["zero", "random-1", "far-5", "mine"]
    assert [c.name for c in result.checks][-2:] == ["loss at mine", "gradient at mine"]
    assert all(c.passed for c in result.checks)


def test_a_tolerance_can_be_given_and_a_loose_one_hides_nothing_big():
    ds = known_case("chain").dataset()
    result = check_gradient(ds, lambda W: per_position(ds, W, summed=True, precise=True), tolerance=0.1)
    assert not result.passed and result.tolerance == 0.1


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (lambda W: 1.0, "must return a pair"),
        (lambda W: (1.0, np.zeros((2, 2))), "shape"),
        (lambda W: (np.zeros(2), np.zeros((3, 3))), "one number"),
        (lambda W: ("x", np.zeros((3, 3))), "dtype"),
        (lambda W: (1.0, np.zeros((3, 3), dtype=complex)), "dtype"),
    ],
)
def test_bad_returns_are_refused_clearly(fn, message):
    with pytest.raises(InvalidInput, match=message):
        check_gradient(known_case("chain").dataset(), fn)


@pytest.mark.parametrize(("kwargs", "message"), [({"scales": (0.0,)}, "scales"), ({"far": "x"}, "far"),
                                                   ({"tolerance": 2.0}, "tolerance"), ({"loss": "nll"}, "loss"),
                                                   ({"points": [1]}, "points"), ({"far": (1e12,)}, "far=.*at most 10000"),
                                                   ({"scales": (1e10,)}, "scales=.*at most 10000")])
def test_bad_options_are_refused_before_fn_is_called(kwargs, message):
    ds = known_case("chain").dataset()
    calls = []

    def fn(W):
        calls.append(W)
        return per_position(ds, W, precise=True)

    with pytest.raises(InvalidInput, match=message):
        check_gradient(ds, fn, **kwargs)
    assert calls == []
    with pytest.raises(InvalidInput, match=r"fn=5 is not callable; pass a function W -> \(loss, gradient\)"):
        check_gradient(ds, 5)


def test_scores_up_to_the_limit_do_not_fail_a_correct_implementation():
    # beyond 1e4 the scores' own rounding (|score| * eps) outgrows the tolerance: at far=(1e12,) symattn's
    # own model was diagnosed 'precision-far-out'; hence the limit
    ds = known_case("default-example").dataset()
    result = check_gradient(ds, Model(ds).value_and_gradient, far=(1e4,), scales=(1e4,))
    assert result.passed, result.message


# -- the reference itself ---------------------------------------------------------------------------
def _mp_reference(ds, W, kind):
    """Identity-head loss and gradient in mpmath at 60 digits, position by position."""
    mpmath.mp.dps = 60
    E = ds.embeddings.matrix()
    d = E.shape[1]
    total = mpmath.mpf(0)
    G = [[mpmath.mpf(0)] * d for _ in range(d)]
    for s in ds:
        k = s.tokens[-1]
        a = [mpmath.fsum(mpmath.mpf(float(E[t, r])) * mpmath.mpf(float(W[r, c])) * mpmath.mpf(float(E[k, c]))
                         for r in range(d) for c in range(d)) for t in s.tokens]
        lse = mpmath.log(mpmath.fsum(mpmath.exp(v) for v in a))
        soft = [mpmath.exp(v - lse) for v in a]
        p = mpmath.fsum(v for v, t in zip(soft, s.tokens, strict=True) if t == s.label)
        phi, dphi = {"log": (-mpmath.log(p), -1 / p), "linear": (-p, mpmath.mpf(-1)),
                     "squared": ((1 - p) ** 2, -2 * (1 - p))}[kind]
        total += phi
        for t, sv in zip(s.tokens, soft, strict=True):
            da = dphi * sv * ((1 if t == s.label else 0) - p)
            for r in range(d):
                for c in range(d):
                    G[r][c] += da * mpmath.mpf(float(E[t, r])) * mpmath.mpf(float(E[k, c]))
    n = len(ds)
    return float(total / n), np.array([[float(G[r][c] / n) for c in range(d)] for r in range(d)])


@pytest.mark.parametrize("name", ["chain", "repeated-tokens", "independent-exact", "default-example"])
@pytest.mark.parametrize("kind", IDENTITY)
def test_reference_matches_mpmath_far_out(name, kind):
    from symattn.svm import solve_graph_svm

    ds = known_case(name).dataset()
    W_svm = solve_graph_svm(ds).W
    for t in (1.0, 40.0, 100.0):
        W = t * W_svm + 0.3 * np.eye(W_svm.shape[0])
        ev = evaluate(ds, W, Loss(kind))
        loss, grad = _mp_reference(ds, W, kind)
        # float64 potentials of size |u| carry eps |u| of rounding, so e^u is good to about 1e-14 at t = 100
        assert abs(ev.loss - loss) <= 1e-12 * ev.loss_scale
        assert np.all(np.abs(ev.gradient - grad) <= 1e-12 * ev.gradient_scale + 1e-300)
        assert loss == 0.0 or math.isclose(ev.loss, loss, rel_tol=1e-12)  # relative, even at e^-100


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_reference_matches_the_direct_oracle_near(case):
    ds = case.dataset()
    rng = np.random.default_rng(1)
    for kind in Loss:
        W = rng.standard_normal((ds.embeddings.dim,) * 2)
        ev = evaluate(ds, W, kind)
        loss, grad = direct_loss_and_gradient(ds, W, kind)
        assert abs(ev.loss - loss) <= 1e-12 * ev.loss_scale
        assert np.all(np.abs(ev.gradient - grad) <= 1e-10 * ev.gradient_scale + 1e-300)


# -- PyTorch, autograd ------------------------------------------------------------------------------
def _torch_fn(ds, form):
    torch = pytest.importorskip("torch", reason="the torch variants need the bench extra")
    E = torch.tensor(ds.embeddings.matrix(), dtype=torch.float64)
    samples = [(torch.tensor(s.tokens), s.label) for s in ds]

    def fn(W):
        Wt = torch.tensor(W, dtype=torch.float64, requires_grad=True)
        total = 0.0
        for toks, y in samples:
            a = E[toks] @ Wt @ E[toks[-1]]
            mask = toks == y
            if form == "softplus" and (~mask).any():
                loss = torch.nn.functional.softplus(torch.logsumexp(a[~mask], 0) - torch.logsumexp(a[mask], 0))
            else:
                loss = torch.logsumexp(a, 0) - torch.logsumexp(a[mask], 0)
            total = total + loss
        total = total if form == "sum" else total / len(samples)
        total.backward()
        return total, Wt.grad  # the loss still requires grad: check_gradient detaches it

    return fn


@pytest.mark.parametrize(("form", "passed", "diagnoses"), [
    ("softplus", True, []),
    ("textbook", False, ["precision-far-out"]),
    ("sum", False, ["sum-instead-of-mean"]),
])
def test_torch_autograd_variants(form, passed, diagnoses):
    ds = known_case("default-example").dataset()
    result = check_gradient(ds, _torch_fn(ds, form))
    assert result.passed is passed and _names(result) == diagnoses


def test_result_as_json():
    import json

    ds = known_case("chain").dataset()
    payload = check_gradient(ds, lambda W: per_position(ds, W)).to_dict()
    json.dumps(payload, allow_nan=False)
    assert payload["verdict"] == "fail" and payload["diagnoses"][0]["name"] == "precision-far-out"
    assert {"name", "value", "expected", "tolerance", "passed"} <= set(payload["checks"][0])
    assert [p["passed"] for p in payload["points"]] == [p.passed for p in check_gradient(
        ds, lambda W: per_position(ds, W)).points]


# -- the shared PyTorch reference trainer (tests/torch_reference.py) -----------------------------------
@pytest.mark.parametrize(
    ("bugs", "passed", "diagnoses"),
    [
        ({}, True, []),
        ({"query": "first"}, False, ["first-token-query"]),
        ({"transpose": True}, False, ["transposed-model"]),
        ({"reduction": "sum"}, False, ["sum-instead-of-mean"]),
        ({"label": "one"}, False, ["one-position"]),
        ({"redraw_labels": 1}, False, []),
    ],
)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_torch_reference_variants(bugs, passed, diagnoses, dtype):
    torch = pytest.importorskip("torch", reason="the torch reference needs the bench extra")
    import torch_reference as tr

    ds = known_case("repeated-tokens").dataset()
    toks, labels, E = [s.tokens for s in ds], [s.label for s in ds], ds.embeddings.matrix()
    result = check_gradient(ds, lambda W: tr.loss_and_gradient(W, toks, labels, E, dtype=getattr(torch, dtype),
                                                               bugs=tr.Bugs(**bugs)))
    assert result.dtype == dtype
    assert result.passed is passed and _names(result) == diagnoses


def test_torch_reference_is_textbook_far_out():
    pytest.importorskip("torch", reason="the torch reference needs the bench extra")
    import torch_reference as tr

    ds = known_case("chain").dataset()
    toks, labels, E = [s.tokens for s in ds], [s.label for s in ds], ds.embeddings.matrix()
    result = check_gradient(ds, lambda W: tr.loss_and_gradient(W, toks, labels, E))
    assert _names(result) == ["precision-far-out"]
    assert [p.name for p in result.points if not p.passed] == ["far-40", "far-100"]
