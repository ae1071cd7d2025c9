"""Bad inputs to the data, graph, embedding, file, score and solver entry points: typed errors only.

Every row calls one public function with one malformed argument and expects an
:class:`InvalidInput` (or its subclass :class:`FileFormatError`) whose message names the bad
value; no raw ``TypeError``/``ValueError``/``AttributeError`` and no silent truncation.
"""

import networkx as nx
import numpy as np
import pytest

from symattn import Dataset, Embeddings, load_example, priority_graphs, realise
from symattn.data import Vocabulary
from symattn.errors import FileFormatError, InvalidInput
from symattn.formats import dataset_to_json, load_dataset, save_dataset
from symattn.scores import MAX_POTENTIAL, entry_potentials, log_token_mass, token_scores
from symattn.svm import solve_graph_svm, svm_constraints

DS = load_example("default")
GRAPHS = priority_graphs(DS)
QUERY = int(DS.queries[0])

BAD_CALLS = [
    ("vocab name of a string", lambda: Vocabulary(3).name("a"), "'a' is not an integer"),
    ("vocab name of a float", lambda: Vocabulary(3).name(1.5), "1.5 is not an integer"),
    ("vocab=True", lambda: Dataset.from_arrays([0], [0, 1], [0], vocab=True), "vocab=True"),
    ("vocab=2.5", lambda: Dataset.from_arrays([0], [0, 1], [0], vocab=2.5), "vocab=2.5"),
    ("from_samples vocab=True", lambda: Dataset.from_samples([([0], 0)], vocab=True), "vocab=True"),
    ("float tokens", lambda: Dataset.from_arrays([0.5], [0, 1], [0]), "dtype float64"),
    ("sample of a float index", lambda: DS[1.0], "sample index 1.0"),
    ("sample of a string index", lambda: DS["1"], "sample index '1'"),
    ("subset of a float", lambda: DS.subset([0.7]), r"subset indices .* dtype float64 \(e\.g\. 0\.7\)"),
    ("subset of a string", lambda: DS.subset(["a"]), "subset indices .* 'a'"),
    ("given rows an int", lambda: Embeddings.given(5), "embedding rows 5"),
    ("given row an int", lambda: Embeddings.given([5, 6]), "embedding row 0 is 5"),
    ("given rows a string", lambda: Embeddings.given("ab"), "embedding rows 'ab'"),
    ("given rows of strings", lambda: Embeddings.given(np.array([["a"]])), "not numbers"),
    ("equicorrelated rho string", lambda: Embeddings.equicorrelated(3, "x"), "rho='x'"),
    ("equicorrelated rho None", lambda: Embeddings.equicorrelated(3, None), "rho=None"),
    ("load_dataset(5)", lambda: load_dataset(5), "path 5"),
    ("load_dataset('')", lambda: load_dataset(""), "path ''"),
    ("save_dataset non-dataset", lambda: save_dataset([([0], 0)], "x.json"), "needs a Dataset, got list"),
    ("dataset_to_json non-dataset", lambda: dataset_to_json({}), "needs a Dataset, got dict"),
    ("realise graph an int", lambda: realise({2: 5}), "G_2 is 5"),
    ("realise graph a string", lambda: realise({2: "01"}), "G_2 is '01'"),
    ("realise edge not a pair", lambda: realise({2: [(0, 1, 2)]}), r"edge \(0, 1, 2\)"),
    ("realise query a string", lambda: realise({"a": [(0, 1)]}), "query token 'a'"),
    ("realise query a float", lambda: realise({2.0: []}), "query token 2.0"),
    ("realise query negative", lambda: realise({-1: []}), "query token -1"),
    ("realise not a mapping", lambda: realise([(0, 1)]), "mapping"),
    ("realise float node", lambda: realise({2: [(0.5, 2)]}), "node 0.5"),
    ("graph of a float query", lambda: GRAPHS[2.7], "query token 2.7"),
    ("graph of a string query", lambda: GRAPHS["2"], "query token '2'"),
    ("top_sccs float query", lambda: GRAPHS.top_sccs([0.5, 2.7]), "query token 2.7"),
    ("top_sccs float token", lambda: GRAPHS[QUERY].top_sccs([0.5, QUERY]), "token 0.5"),
    ("top_sccs empty", lambda: GRAPHS.top_sccs([]), "at least one token"),
    ("reaches float token", lambda: GRAPHS[QUERY].reaches(0.5, QUERY), "token 0.5"),
    ("scc_of string", lambda: GRAPHS[QUERY].scc_of("0"), "token '0'"),
    ("sample_scc float", lambda: GRAPHS.sample_scc(1.0), "sample index 1.0"),
    ("sample_scc out of range", lambda: GRAPHS.sample_scc(len(DS)), "out of range"),
    ("svm_constraints non-dataset", lambda: svm_constraints([([0, 1], 0)]), "needs a Dataset or its"),
    ("svm_constraints None", lambda: svm_constraints(None), "got NoneType"),
    ("solve_graph_svm graphs", lambda: solve_graph_svm(GRAPHS), "needs a Dataset"),
    ("solve_graph_svm constraints", lambda: solve_graph_svm(DS, constraints=GRAPHS), "SVMConstraints"),
    ("solve_graph_svm certify", lambda: solve_graph_svm(DS, certify="x"), "certify='x'"),
]


@pytest.mark.parametrize(("call", "message"), [row[1:] for row in BAD_CALLS], ids=[row[0] for row in BAD_CALLS])
def test_bad_input_raises_a_typed_error_naming_the_value(call, message):
    with pytest.raises(InvalidInput, match=message):
        call()


def test_realise_gives_edgeless_graphs_the_query_only_sample():
    assert [(s.tokens, s.label) for s in realise({2: []})] == [((2,), 2)]
    ds = realise({0: [(1, 0)], 1: []})
    assert [(s.tokens, s.label) for s in ds] == [((1, 0), 1), ((1,), 1)]
    pg = priority_graphs(ds)
    assert pg[1].edges.shape == (0, 2) and pg[1].nodes.tolist() == [1]
    assert pg[0].edges.tolist() == [[1, 0]]
    empty = nx.DiGraph()
    empty.add_node(3)
    assert priority_graphs(realise({3: empty}))[3].sccs == ((3,),)


def test_save_dataset_refuses_unknown_suffixes(tmp_path):
    for name in ("d.csv", "d", "d.JSON.bak"):
        with pytest.raises(InvalidInput, match=r"unknown suffix .*\['\.json', '\.txt'\]"):
            save_dataset(DS, tmp_path / name)
    assert list(tmp_path.iterdir()) == []
    assert load_dataset(save_dataset(DS, tmp_path / "d.TXT")) == DS


def test_save_dataset_to_an_unwritable_path_names_it():
    with pytest.raises(FileFormatError, match=r"/dev/null/x\.json: cannot write"):
        save_dataset(DS, "/dev/null/x.json")


@pytest.mark.parametrize(
    "embeddings",
    [Embeddings.equicorrelated(6, 0.5), Embeddings.given(np.full((6, 6), 2.0) + np.eye(6)), None],
    ids=["equicorrelated", "given", "onehot"],
)
def test_overflowing_potentials_are_refused_not_nan(embeddings):
    ds = DS if embeddings is None else DS.with_embeddings(embeddings)
    W = np.full((6, 6), 1e308)
    for func in (entry_potentials, token_scores, log_token_mass):
        with pytest.raises(InvalidInput, match="potentials e_j\\^T W e_k overflow"):
            func(ds, W)
    # just inside the bound everything stays finite (independent check: the plain formula)
    W = np.zeros((6, 6))
    W[0, QUERY] = MAX_POTENTIAL / (1.0 if embeddings is None else 1e3)
    log_pi = log_token_mass(ds, W)
    assert np.all(np.isfinite(log_pi)) and np.all(log_pi <= 0.0)
