"""verify_weights: verdicts, checks at the weights' norm, diagnoses, the pseudo-graph.

Weights come from the regularisation path (an optimum at each norm, computed apart from the
checks' references) and from deliberate mistakes made on it: transposed, scaled, trained on other
labels or with the query at another position.
"""

import json

import numpy as np
import pytest

from symattn import Dataset, Embeddings, predict, priority_graphs, reachable_basis, regularization_path
from symattn.errors import InvalidInput
from symattn.reproduce import random_cyclic_dataset
from symattn.verify import Verdict
from symattn.verify.pseudo import pseudo_graph, selected_tokens
from symattn.verify.weights import Direction, draw_prompts, norm_needed, verify_weights


def path_weights(ds, R):
    return regularization_path(ds, list(np.geomspace(1.0, R, 6))).W


@pytest.fixture(scope="module")
def published():
    ds = random_cyclic_dataset(seed=np.random.default_rng(0))
    pred = predict(ds)
    return ds, pred, path_weights(ds, 30.0)


@pytest.fixture(scope="module")
def onehot():
    ds = Dataset.from_samples(
        [([0, 1, 2, 3], 0), ([0, 1, 2, 3], 1), ([1, 0, 3], 1), ([2, 0, 3], 0), ([2, 1, 3], 2), ([1, 2], 2),
         ([0, 2], 0)],
        vocab=4,
    )
    return ds, predict(ds), path_weights(ds, 40.0)


def failed(report):
    return [c.name for c in report.checks if c.passed is False]


def found(report):
    return [d.name for d in report.diagnoses if d.found]


def test_path_weights_pass(published, onehot):
    for ds, pred, W in (published, onehot):
        rep = verify_weights(ds, W, prediction=pred, step=0.0)
        assert rep.verdict is Verdict.PASS and rep.success, rep.checks
        assert rep.direction is Direction.GLOBAL
        assert [c.name for c in rep.checks] == [
            "norm", "direction", "finite part", "hard retrieval", "soft composition", "generalisation",
        ]
        assert rep.removed < 1e-9 and not found(rep)


def test_small_norm_is_inconclusive(published):
    ds, pred, W = published
    needed = norm_needed(pred)
    rep = verify_weights(ds, W * (0.9 * needed / np.linalg.norm(W)), prediction=pred)
    assert rep.verdict is Verdict.INCONCLUSIVE and rep.verdict.exit_code == 3
    assert rep.norm_needed == needed and rep.norm < needed
    assert [c.passed for c in rep.checks] == [None] and str(round(needed, 2))[:3] in rep.message
    assert verify_weights(ds, np.zeros_like(W), prediction=pred).verdict is Verdict.INCONCLUSIVE


def test_norm_needed_is_where_half_the_attention_is_retrieved(onehot):
    pred = onehot[1]
    needed = norm_needed(pred)
    unit = pred.W_svm / np.linalg.norm(pred.W_svm)
    rho = np.sqrt(max((needed / 2) ** 2 - np.sum(pred.W_fin ** 2), 0.0))  # 0 here, up to rounding
    mass = pred.distances(rho * unit + pred.W_fin).outside_mass_max
    assert mass == pytest.approx(0.5, abs=1e-6)


def test_transposed_weights_fail_and_are_diagnosed(onehot):
    ds, pred, W = onehot
    rep = verify_weights(ds, W.T, prediction=pred)
    assert rep.verdict is Verdict.FAIL and rep.verdict.exit_code == 1
    assert "finite part" in failed(rep) and "transposed" in found(rep)
    # most of W^T lies outside the reachable subspace: the direction is left unjudged, not passed
    assert rep.check("direction").passed is None
    assert verify_weights(ds, W.T, prediction=pred, query_side="left").verdict is Verdict.PASS


def test_other_labels_fail_and_the_reversed_edges_are_named(onehot):
    ds, pred, _ = onehot
    other = Dataset.from_arrays(ds.tokens, ds.offsets, [0, 0, 0, 0, 1, 2, 2], vocab=4)
    rep = verify_weights(ds, path_weights(other, 40.0), prediction=pred)
    assert rep.verdict is Verdict.FAIL and "hard retrieval" in failed(rep)
    diag = next(d for d in rep.diagnoses if d.name == "other labels")
    assert diag.found and "query 2: 2->0 (data: 0 over 2)" in diag.detail
    assert rep.failing_samples and rep.direction is Direction.LOCAL


def test_query_at_the_first_position_is_diagnosed(published):
    ds, pred, _ = published
    order = []
    for a, b in zip(ds.offsets[:-1], ds.offsets[1:], strict=True):
        order += [*range(a + 1, b), a]
    moved = Dataset.from_arrays(ds.tokens[order], ds.offsets, ds.labels, vocab=ds.K, embeddings=ds.embeddings)
    rep = verify_weights(ds, path_weights(moved, 30.0), prediction=pred)
    assert rep.verdict is Verdict.FAIL and "query position" in found(rep)


def test_scaled_scores_are_diagnosed(onehot):
    ds, pred, W = onehot
    rep = verify_weights(ds, 3.0 * W, prediction=pred, step=0.0)
    assert "finite part" in failed(rep)
    diag = next(d for d in rep.diagnoses if d.name == "loss scale")
    assert diag.found and "W / 3 " in diag.detail, diag.detail


def test_unreachable_components_are_removed_and_reported(published):
    ds, pred, W = published
    basis = reachable_basis(ds)
    noise = np.random.default_rng(1).normal(scale=1.0, size=W.shape)
    noise -= basis.project(noise)
    rep = verify_weights(ds, W + noise, prediction=pred)
    assert rep.verdict is Verdict.PASS
    assert rep.removed == pytest.approx(np.linalg.norm(noise))
    assert rep.raw_corr < rep.check("direction").value


def test_float32_weights(published):
    ds, pred, W = published
    rep = verify_weights(ds, W.astype(np.float32), prediction=pred)
    assert rep.verdict is Verdict.PASS and rep.dtype == "float32" and "precision" in found(rep)
    assert "log(eps) = -15.9" in rep.check("hard retrieval").detail


def test_no_nan_when_the_svm_is_zero():
    ds = Dataset.from_samples([([0, 1], 0), ([0, 1], 1), ([0, 1], 1)], vocab=2)
    pred = predict(ds)
    assert not np.any(pred.W_svm)
    rep = verify_weights(ds, pred.W_fin + np.array([[0.0, 0.0], [5.0, 0.0]]), prediction=pred, step=0.0)
    assert rep.verdict is Verdict.PASS and rep.direction is Direction.NOT_JUDGED and rep.raw_corr == 0.0
    json.dumps(rep.to_dict(), allow_nan=False)
    bad = verify_weights(ds, pred.W_fin + 0.5 * pred.finite.basis.matrices()[0], prediction=pred, step=0.0)
    assert failed(bad) == ["finite part", "soft composition"]


def test_json_report(onehot):
    ds, pred, W = onehot
    obj = json.loads(json.dumps(verify_weights(ds, W.T, prediction=pred).to_dict(ds.vocab.names), allow_nan=False))
    assert obj["verdict"] == "fail" and obj["format"] == "symattn.verify-weights/1"
    assert {"name", "value", "expected", "tolerance", "passed"} <= set(obj["checks"][1])
    assert any(d["name"] == "transposed" and d["found"] for d in obj["diagnoses"])


def test_given_prompts_and_failing_prompts(onehot):
    ds, pred, W = onehot
    prompts = [(0, 1, 3), (2, 1, 0, 3), (1, 2)]
    rep = verify_weights(ds, W, prediction=pred, prompts=prompts)
    assert rep.verdict is Verdict.PASS and "worst of 3 new prompts" in rep.check("generalisation").detail
    wrong = W.copy()
    wrong[:, 3] = -wrong[:, 3]
    bad = verify_weights(ds, wrong, prediction=pred, prompts=prompts)
    assert (0, 1, 3) in bad.failing_prompts and "generalisation" in failed(bad)


def test_drawn_prompts_come_from_each_query_graph(published):
    ds, pred, _ = published
    prompts = draw_prompts(ds, 5, seed=3)
    graphs = pred.graphs
    assert len(prompts) == 5 * len(graphs)
    assert all(set(p) <= set(graphs[p[-1]].nodes.tolist()) for p in prompts)
    assert prompts == draw_prompts(ds, 5, seed=3)


def test_local_direction_passes_only_for_non_convex_losses(onehot):
    ds, pred, _ = onehot
    other = Dataset.from_arrays(ds.tokens, ds.offsets, [0, 0, 0, 0, 1, 2, 2], vocab=4)
    W = path_weights(other, 40.0)
    local = verify_weights(ds, W, prediction=pred, loss="embed-squared")
    assert local.direction is Direction.LOCAL and local.verdict is Verdict.PASS, local.checks
    assert "finite part" not in [c.name for c in local.checks]
    assert verify_weights(ds, W, prediction=pred).verdict is Verdict.FAIL


@pytest.mark.parametrize("kwargs, message", [
    ({"step": -1.0}, "step=-1.0"),
    ({"loss": "hinge"}, "loss='hinge'"),
    ({"query_side": "up"}, "query_side='up'"),
    ({"prompts": [[0, 9]]}, "prompts: sample 0: token 9"),
    ({"prompts": [[]]}, "prompt 0"),
    ({"prompts": "0 1"}, "non-empty list"),
])
def test_bad_arguments(onehot, kwargs, message):
    ds, pred, W = onehot
    with pytest.raises(InvalidInput, match=message):
        verify_weights(ds, W, prediction=pred, **kwargs)


def test_prediction_of_another_dataset_is_refused(onehot, published):
    with pytest.raises(InvalidInput, match="another dataset"):
        verify_weights(onehot[0], onehot[2], prediction=published[1])


def test_weights_of_the_wrong_size(onehot):
    with pytest.raises(InvalidInput, match="the embeddings need 4 rows"):
        verify_weights(onehot[0], np.eye(3))


# -- pseudo-graph -----------------------------------------------------------------------------------
def test_pseudo_graph_of_converged_weights_has_the_true_sccs(onehot):
    ds, pred, W = onehot
    true, pseudo = pred.graphs, pseudo_graph(ds, W)
    for k in true:
        assert set(true[k].sccs) == set(pseudo[k].sccs)


def test_pseudo_samples_one_per_selected_token():
    ds = Dataset.from_samples([([0, 1, 2], 0)], vocab=3, embeddings=Embeddings.onehot(3))
    W = np.zeros((3, 3))
    W[:, 2] = [np.log(60.0), np.log(39.0), 0.0]  # masses 0.6, 0.39, 0.01
    assert [(s.tokens, s.label) for s in pseudo_graph(ds, W, 0.05).dataset] == [((0, 1, 2), 0), ((0, 1, 2), 1)]
    assert len(pseudo_graph(ds, W, 0.0).dataset) == 3
    assert selected_tokens(ds, W, 0.9).tolist() == [True, False, False]  # the top token when none exceeds
    assert priority_graphs(pseudo_graph(ds, W, 0.05).dataset)[2].sccs == ((0, 1), (2,))


@pytest.mark.parametrize("threshold", [1.0, -0.1, True, "0.1"])
def test_pseudo_graph_bad_threshold(threshold):
    ds = Dataset.from_samples([([0, 1], 0)], vocab=2)
    with pytest.raises(InvalidInput, match="threshold"):
        pseudo_graph(ds, np.zeros((2, 2)), threshold)


def test_weights_outside_the_reachable_subspace_explained_by_another_query_fail():
    ds = Dataset.from_samples([([0, 1, 2], 0), ([1, 0, 2], 1), ([0, 2, 3], 2), ([1, 3], 3), ([0, 3], 0)], vocab=4)
    order = []
    for a, b in zip(ds.offsets[:-1], ds.offsets[1:], strict=True):
        order += [*range(a + 1, b), a]
    moved = Dataset.from_arrays(ds.tokens[order], ds.offsets, ds.labels, vocab=4)
    W = path_weights(moved, 30.0)
    rep = verify_weights(ds, W)
    assert rep.norm < 1e-9 and rep.removed == pytest.approx(30.0)
    assert rep.verdict is Verdict.FAIL and failed(rep) == ["reachable part"]
    assert "query position" in found(rep)
    # the same size outside R from an initialisation alone stays inconclusive
    init = np.random.default_rng(0).normal(size=(4, 4))
    init -= reachable_basis(ds).project(init)
    assert verify_weights(ds, 30.0 * init / np.linalg.norm(init)).verdict is Verdict.INCONCLUSIVE


def test_reference_is_normalised_gd_above_the_path_budget(monkeypatch: pytest.MonkeyPatch):
    from symattn.verify import weights as module

    ds = Dataset.from_samples([([0, 1], 0), ([1, 2, 0], 1)], vocab=3)
    assert module.reference_weights(ds, 4.0)[2] == "the regularisation path W_R"
    monkeypatch.setattr(module, "_PATH_REFERENCE_NODES", 2)
    at_R, at_half, what = module.reference_weights(ds, 4.0)
    assert what.startswith("normalised GD")
    assert np.linalg.norm(at_R) >= 4.0 > np.linalg.norm(at_half) >= 2.0
