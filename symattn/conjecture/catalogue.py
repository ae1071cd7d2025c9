r"""The theory's claims as named conjectures, and known-false statements with their counterexamples.

Each entry is a :class:`~symattn.conjecture.harness.Conjecture` with an expectation: the
theory's claims (``docs/theory.md`` §3-§6) must **survive** any search; the known-false
statements must be **refuted**, and the shrunk counterexample of each is shipped in
``symattn/conjecture/counterexamples/`` and explained in ``docs/conjectures.md``. The command
``symattn conjecture --list`` prints this table; ``symattn conjecture catalogue:NAME`` searches one.

Statements about training are checked at finite norm with thresholds stated from the theory
(``docs/conjectures.md`` gives the reasoning and the measured values behind each).

>>> sorted(name for name, e in CATALOGUE.items() if e.expect is Expectation.REFUTED)
['embed-squared-gd-global-svm', 'prompt-top-scc-unique', 'wfin-minimises-full-loss']
>>> catalogue_entry("svm-perp-fin").conjecture.origin
'catalogue:svm-perp-fin'
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from importlib import resources
from pathlib import Path

import numpy as np
from hypothesis import strategies as st

from symattn.conjecture.declare import Conjecture, ConjectureError, conjecture
from symattn.data import Dataset
from symattn.embeddings import Embeddings
from symattn.errors import SolverError
from symattn.finite import fin_basis, finite_component, reduced_loss
from symattn.graphs import priority_graphs
from symattn.model import Model, gradient, loss, smoothness_bound
from symattn.predict import Prediction, predict
from symattn.prompts import Prompt
from symattn.strategies import prompts_for, weights_for
from symattn.svm import solve_graph_svm
from symattn.train import GradientDescent, regularization_path, train

__all__ = ["CATALOGUE", "Entry", "Expectation", "catalogue_entry", "counterexample_path"]


class Expectation(enum.Enum):
    """What a catalogue conjecture must do under search."""

    SURVIVES = "survives"
    REFUTED = "refuted"


@dataclass(frozen=True)
class Entry:
    """A catalogue conjecture, what it must do, where the theory states it, and a CI-sized search.

    ``examples`` and ``seed`` are the search the test suite runs; a refuted entry's committed
    counterexample is the shrunk result of that search.
    """

    conjecture: Conjecture
    expect: Expectation
    cites: str
    examples: int
    seed: int = 0

    @property
    def name(self) -> str:
        """The entry's name (``catalogue:NAME`` on the command line)."""
        return self.conjecture.name


CATALOGUE: dict[str, Entry] = {}


def _entry(
    name: str, expect: Expectation, cites: str, examples: int, seed: int = 0, **declared: object
) -> Callable[[Callable[..., object]], Conjecture]:
    def register(func: Callable[..., object]) -> Conjecture:
        conj = conjecture(name=name, **declared)(func)  # type: ignore[arg-type]
        conj = Conjecture(conj.func, name, conj.strategy, conj.arguments, conj.description,
                          f"catalogue:{name}")
        CATALOGUE[name] = Entry(conj, expect, cites, examples, seed)
        return conj

    return register


def catalogue_entry(name: str) -> Entry:
    """The catalogue entry called ``name``.

    >>> catalogue_entry("label-top-scc").expect.value
    'survives'
    """
    if name not in CATALOGUE:
        raise ConjectureError(f"the catalogue has no conjecture {name!r}; it has {sorted(CATALOGUE)}")
    return CATALOGUE[name]


def counterexample_path(name: str) -> Path:
    """The committed counterexample (``symattn.dataset/1``) of a refuted entry.

    >>> counterexample_path("prompt-top-scc-unique").name
    'prompt-top-scc-unique.json'
    """
    entry = catalogue_entry(name)
    if entry.expect is not Expectation.REFUTED:
        raise ConjectureError(f"{name!r} is a claim of the theory; it has no committed counterexample")
    return Path(str(resources.files(__package__) / "counterexamples" / f"{name}.json"))


SURVIVES, REFUTED = Expectation.SURVIVES, Expectation.REFUTED
_TOL = 1e-9


# -- graphs and the graph-SVM --------------------------------------------------------------------
@_entry("label-top-scc", SURVIVES, "docs/theory.md §3", 100)
def label_top_scc(ds: Dataset) -> None:
    """A label's SCC is the unique top SCC among the tokens of its own sequence."""
    graphs = priority_graphs(ds)
    for i, sample in enumerate(ds):
        top = graphs.top_sccs(sample.tokens)
        assert top.indices == (int(graphs.label_scc[i]),), f"sample {i}: top SCCs {top.indices}"


@_entry("svm-feasible", SURVIVES, "docs/theory.md §4", 60, strategy="given")
def svm_feasible(ds: Dataset) -> None:
    """With linearly independent exact embeddings the graph-SVM is feasible and exactly certified."""
    result = solve_graph_svm(ds)
    assert result.success, f"status {result.status.value}"
    assert result.certified, "no exact certificate"


@_entry("svm-zero-iff-no-outside", SURVIVES, "docs/theory.md §4", 100)
def svm_zero_iff_no_outside(ds: Dataset) -> None:
    """W^svm = 0 exactly when no sample has a token outside its label's SCC."""
    result = solve_graph_svm(ds)
    zero = result.certificate is not None and result.certificate.norm_squared == 0
    outside = not bool(np.all(priority_graphs(ds).in_label_scc))
    assert zero != outside, f"||W^svm||^2 = {result.certificate and result.certificate.norm_squared}"


@_entry("svm-perp-fin", SURVIVES, "docs/theory.md §5", 100)
def svm_perp_fin(ds: Dataset) -> None:
    """W^svm is orthogonal to S_fin: exactly on every same-SCC pair (one-hot), else on a basis."""
    result = solve_graph_svm(ds)
    if result.certified and ds.embeddings.is_onehot and result.certificate is not None:
        W = result.certificate.exact_matrix()
        for k, g in priority_graphs(ds).items():
            for scc in g.sccs:
                values = {W[j][k] for j in scc}
                assert len(values) == 1, f"G_{k}: scores {sorted(values)} differ on the SCC {scc}"
        return
    coords = fin_basis(ds).coordinates(result.W)
    assert np.all(np.abs(coords) <= _TOL * max(1.0, result.norm)), f"<W^svm, B> = {coords}"


@_entry("fin-dim", SURVIVES, "docs/theory.md §5", 60, strategy="given")
def fin_dim(ds: Dataset) -> None:
    """dim S_fin = sum over k and SCCs C of G_k of (|C| - 1), for independent embeddings."""
    expected = sum(len(scc) - 1 for g in priority_graphs(ds).values() for scc in g.sccs)
    assert fin_basis(ds).dim == expected, f"dim {fin_basis(ds).dim} != {expected}"


@_entry("scale-invariance", SURVIVES, "docs/theory.md §2", 40, strategy="given",
        scale=st.sampled_from([Fraction(2), Fraction(3), Fraction(1, 2)]))
def scale_invariance(ds: Dataset, scale: Fraction) -> None:
    """Scaling the embeddings by c scales W^svm by 1/c^2, exactly, and W^fin too."""
    rows = [[scale * v for v in row] for row in ds.embeddings.exact_matrix()]
    scaled = ds.with_embeddings(Embeddings.given(rows))
    a, b = solve_graph_svm(ds).certificate, solve_graph_svm(scaled).certificate
    assert a is not None and b is not None, "no exact certificate"
    expected = [[v / scale**2 for v in row] for row in a.exact_matrix()]
    assert b.exact_matrix() == expected, "W^svm does not scale as 1/c^2"
    fa, fb = finite_component(ds).W, finite_component(scaled).W
    assert np.allclose(fb * float(scale) ** 2, fa, rtol=1e-7, atol=1e-9), "W^fin does not scale as 1/c^2"


@_entry("loss-chain", SURVIVES, "docs/theory.md §6", 80, W=weights_for,
        direction=lambda ds: st.lists(st.floats(-1, 1), min_size=fin_basis(ds).dim,
                                      max_size=fin_basis(ds).dim),
        step=st.floats(1e-3, 1.0))
def loss_chain(ds: Dataset, W: np.ndarray, direction: list[float], step: float) -> None:
    """L(W) >= L_red(W) >= L_red(W^fin), and W^fin + t*B (B in S_fin) does no better."""
    fin = finite_component(ds)
    floor = fin.loss
    tol = 1e-12 * max(1.0, abs(floor))
    full, red = loss(ds, W), reduced_loss(ds, W)
    assert full >= red - tol, f"L(W) = {full!r} < L_red(W) = {red!r}"
    assert red >= floor - tol, f"L_red(W) = {red!r} < L_red(W^fin) = {floor!r}"
    norm = float(np.linalg.norm(direction))
    if norm > 0:
        moved = fin.W + step * fin.basis.expand(np.asarray(direction) / norm)
        assert reduced_loss(ds, moved) >= floor - tol, "a move inside S_fin lowers L_red below W^fin"


# -- what training does --------------------------------------------------------------------------
def _far_radii(pred: Prediction) -> tuple[float, float]:
    """Two radii far out along the path: 40 and 80 times ||W^svm||, past the finite part."""
    s, f = pred.svm.norm, float(np.linalg.norm(pred.W_fin))
    return 40 * s + 2 * f + 1, 80 * s + 2 * f + 1


def _path(ds: Dataset, radii: tuple[float, ...]) -> np.ndarray:
    path = regularization_path(ds, list(radii))
    if not path.success:
        raise SolverError(f"the regularisation path stopped: {path.message}")
    return path.weights


@_entry("p1-path", SURVIVES, "docs/theory.md §6 (P1)", 20)
def p1_path(ds: Dataset) -> None:
    """P1: far out on the path (R = 40||W^svm|| + ...), corr(W_R, W^svm) >= 0.99 and P_fin W_R = W^fin."""
    pred = predict(ds)
    R = _far_radii(pred)[0]
    d = pred.distances(_path(ds, (R,))[0])
    if pred.svm.norm > 0:
        assert d.corr_svm >= 0.99, f"corr(W_R, W^svm) = {d.corr_svm:.6f} at R = {R:.4g}"
    bound = 1e-6 * max(1.0, float(np.linalg.norm(pred.W_fin)))
    assert d.finite_error <= bound, f"||P_fin W_R - W^fin|| = {d.finite_error:.3g} at R = {R:.4g}"


@_entry("p2-gd", SURVIVES, "docs/theory.md §6 (P2)", 6)
def p2_gd(ds: Dataset) -> None:
    """P2: GD at step 1/beta descends at every step; NGD (lr 0.01, 4000 steps) ends near the prediction.

    Near: corr(W, W^svm) >= 0.95 and ||P_fin W - W^fin|| <= 0.05 (ten times NGD's floor lr/2).
    """
    model = Model(ds)
    lr = 1.0 / smoothness_bound(ds)
    trainer = GradientDescent(model, lr)
    state = trainer.init(np.zeros((model.dim, model.dim)))
    for _ in range(200):
        value, grad = model.value_and_gradient(state.W)
        state = trainer.step(state)
        bound = value - 0.5 * lr * float(np.sum(grad * grad)) + 1e-12 * max(1.0, value)
        assert model.value(state.W) <= bound, f"GD step {state.step} breaks the descent lemma"
    pred = predict(ds)
    d = pred.distances(train(ds, method="ngd", steps=4000, lr=0.01, records=2).W)
    if pred.svm.norm > 0:
        assert d.corr_svm >= 0.95, f"NGD: corr(W, W^svm) = {d.corr_svm:.6f}"
    assert d.finite_error <= 0.05, f"NGD: ||P_fin W - W^fin|| = {d.finite_error:.4g}"


@_entry("p3-outside-mass", SURVIVES, "docs/theory.md §6 (P3)", 20)
def p3_outside_mass(ds: Dataset) -> None:
    """P3: far out on the path the mass outside the label SCCs falls like exp(-R/||W^svm||) (within 5%)."""
    pred = predict(ds)
    if pred.svm.norm == 0:
        return
    radii = _far_radii(pred)
    W1, W2 = _path(ds, radii)
    m1, m2 = pred.distances(W1).log_outside_mass_max, pred.distances(W2).log_outside_mass_max
    rate = (m2 - m1) / ((radii[1] - radii[0]) / pred.svm.norm)
    assert abs(rate + 1) <= 0.05, f"log outside mass falls at {rate:.4f} per R/||W^svm||, not -1"


@_entry("p4-within-scc", SURVIVES, "docs/theory.md §6 (P4)", 20)
def p4_within_scc(ds: Dataset) -> None:
    """P4: far out on the path the attention inside each label's SCC is the softmax under W^fin."""
    pred = predict(ds)
    d = pred.distances(_path(ds, _far_radii(pred)[:1])[0])
    assert d.within_error <= 1e-6, f"within-SCC attention differs from W^fin's by {d.within_error:.3g}"


@_entry("p5-retrieval", SURVIVES, "docs/theory.md §6 (P5)", 80, prompt=prompts_for)
def p5_retrieval(ds: Dataset, prompt: Prompt) -> None:
    """P5: when a new prompt's tokens have a unique top SCC, its max-W^svm-score tokens are that SCC's."""
    answer = predict(ds).predict_retrieval(prompt.tokens)
    if answer.graph is not None:
        graph = answer.graph.tokens
        assert answer.tokens == graph, f"retrieved {answer.tokens}, the graph says {graph}"


# -- known false ---------------------------------------------------------------------------------
@_entry("wfin-minimises-full-loss", REFUTED, "docs/theory.md §5", 200)
def wfin_minimises_full_loss(ds: Dataset) -> None:
    """(false) W^fin minimises the full loss L over S_fin (it minimises the reduced loss)."""
    pred = predict(ds)
    g = pred.project_fin(gradient(ds, pred.W_fin))
    assert float(np.linalg.norm(g)) <= 1e-8, f"||P_fin grad L(W^fin)|| = {np.linalg.norm(g):.4g}"


@_entry("embed-squared-gd-global-svm", REFUTED, "docs/theory.md §6 (P6)", 40, seed=3)
def embed_squared_gd_global_svm(ds: Dataset) -> None:
    """(false) NGD on the embedding head's squared loss (lr 0.25, 400 steps) aligns with W^svm (corr >= 0.9).

    The graph-SVM direction is the limit for the log-loss with the identity head only.
    """
    pred = predict(ds)
    if pred.svm.norm == 0:
        return
    W = train(ds, method="ngd", steps=400, lr=0.25, loss="embed-squared", records=2).W
    corr = pred.distances(W).corr_svm
    assert corr >= 0.9, f"corr(W, W^svm) = {corr:.4f} after 400 steps"


@st.composite
def _prompts_in_graph(draw: st.DrawFn, ds: Dataset) -> Prompt:
    """A prompt with a training query :math:`k` and other tokens from the nodes of :math:`G_k`."""
    k = draw(st.sampled_from(sorted(set(ds.queries.tolist()))))
    nodes = priority_graphs(ds)[k].nodes.tolist()
    return Prompt((*draw(st.lists(st.sampled_from(nodes), max_size=5)), k))


@_entry("prompt-top-scc-unique", REFUTED, "docs/theory.md §7", 200, prompt=_prompts_in_graph)
def prompt_top_scc_unique(ds: Dataset, prompt: Prompt) -> None:
    """(false) The top SCC among a new prompt's tokens (all seen in G_k) is unique."""
    top = priority_graphs(ds).top_sccs(prompt.tokens)
    assert top.unique, f"the prompt {list(prompt.tokens)} has {len(top.indices)} top SCCs: {top.tokens}"
