"""Counterexample bundles: files every command loads, exact reports, arguments that replay bit for bit."""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from symattn import Dataset, FileFormatError, InvalidInput, load_dataset, solve_graph_svm
from symattn.cli import main
from symattn.conjecture import ConjectureStatus, check_conjecture, conjecture
from symattn.conjecture.bundle import (
    REPORT_FORMAT,
    compact_json,
    decode_value,
    encode_value,
    load_bundle,
    replay,
    write_bundle,
)
from symattn.prompts import Prompt
from symattn.strategies import weights_for


@conjecture
def svm_is_zero(ds):
    assert solve_graph_svm(ds).norm == 0, "W^svm is not zero"


@conjecture(W=lambda ds: weights_for(ds, max_abs=2.0))
def small_weights(ds, W):
    assert float(np.abs(W).sum()) < 1.0, "W is not small"


@pytest.fixture(scope="module")
def refuted(tmp_path_factory):
    result = check_conjecture(svm_is_zero, examples=100, seed=0)
    folder = tmp_path_factory.mktemp("bundle")
    return result, write_bundle(result, folder)


def test_the_dataset_file_is_a_dataset_every_command_loads(refuted, capsys):
    result, (data, _) = refuted
    assert data.name == "svm_is_zero.json"
    assert load_dataset(data) == result.counterexample.dataset
    assert main(["analyze", str(data)]) == 0
    assert "dataset: n=1 samples, K=2 tokens" in capsys.readouterr().out


def test_the_report_has_the_exact_svm_and_what_was_tried(refuted):
    result, (data, report_path) = refuted
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["format"] == REPORT_FORMAT and report["verdict"] == "refuted"
    assert report["conjecture"] == {"name": "svm_is_zero", "origin": None}
    assert report["message"].startswith("W^svm is not zero") and report["seed"] == 0
    assert report["examples_tried"] == result.tried and report["shrink_steps"] == result.counterexample.shrink_steps
    assert report["dataset"] == data.name and report["size"] == {
        "samples": 1, "positions": 2, "tokens": 2, "vocab": 2, "queries": 1, "edges": 1}
    (tokens,), label = [s.tokens for s in result.counterexample.dataset], result.counterexample.dataset.labels[0]
    k, other = tokens[-1], tokens[0]
    assert report["graphs"] == {str(k): {"sccs": [[str(other)], [str(k)]], "dag": [[0, 1]]}}
    assert int(label) == other
    W = [[Fraction(v) for v in row] for row in report["svm"]["W"]]
    assert W[other][k] - W[k][k] == 1 and report["svm"]["norm_squared"] == "1/2"
    assert report["svm"]["certified"] and report["finite"]["dim"] == 0
    assert "traceback" not in report and report["replay"].endswith(f"--replay {data}")


def test_replay_refutes_again_and_holds_for_a_fixed_conjecture(refuted):
    _, (data, report_path) = refuted
    for path in (data, report_path):
        again = replay(svm_is_zero, path)
        assert again.status is ConjectureStatus.REFUTED and again.counterexample.message.startswith("W^svm is not zero")
    fixed = replay(lambda ds: True, data)
    assert fixed.status is ConjectureStatus.SURVIVED and fixed.counterexample is None


def test_arguments_replay_bit_for_bit(tmp_path):
    result = check_conjecture(small_weights, examples=100, seed=0)
    assert result.status is ConjectureStatus.REFUTED
    _, report = write_bundle(result, tmp_path)
    bundle = load_bundle(report)
    W = bundle.arguments["W"]
    assert W.dtype == np.float64 and np.array_equal(W, result.counterexample.arguments["W"])
    assert replay(small_weights, report).status is ConjectureStatus.REFUTED
    with pytest.raises(InvalidInput, match="no value for the argument"):
        replay(conjecture(R=st.just(1))(lambda ds, R: True), report)


def test_a_plain_dataset_file_replays_without_arguments(tmp_path):
    path = tmp_path / "plain.txt"
    path.write_text("a b -> a\n", encoding="utf-8")
    assert replay(svm_is_zero, path).status is ConjectureStatus.REFUTED
    assert load_bundle(path).report is None


def test_an_error_bundle_keeps_the_traceback(tmp_path):
    result = check_conjecture(lambda ds: 1 / 0, examples=5, seed=0)
    assert result.status is ConjectureStatus.ERROR
    _, report = write_bundle(result, tmp_path)
    obj = json.loads(report.read_text(encoding="utf-8"))
    assert obj["verdict"] == "error" and "ZeroDivisionError" in obj["traceback"]


def test_a_survivor_has_no_bundle(tmp_path):
    with pytest.raises(InvalidInput, match="no counterexample"):
        write_bundle(check_conjecture(lambda ds: True, examples=3, seed=0), tmp_path)


def test_malformed_reports_are_refused(tmp_path, refuted):
    _, (data, report) = refuted
    bad = tmp_path / "x.report.json"
    bad.write_text(json.dumps({"format": "symattn.counterexample/9"}), encoding="utf-8")
    with pytest.raises(FileFormatError, match=r"expected 'symattn\.counterexample/1'"):
        load_bundle(bad)
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(FileFormatError, match="not JSON"):
        load_bundle(bad)
    obj = json.loads(report.read_text(encoding="utf-8"))
    obj["arguments"] = {"W": {"mystery": 1}}
    obj["dataset"] = str(data)
    bad.write_text(json.dumps(obj), encoding="utf-8")
    with pytest.raises(FileFormatError, match="no known tag"):
        load_bundle(bad)


scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**30, 10**30), st.floats(), st.text(max_size=5),
                    st.fractions(max_denominator=50))
arrays = st.one_of(
    st.lists(st.floats(), min_size=6, max_size=6).map(lambda v: np.array(v).reshape(2, 3)),
    st.lists(st.integers(-5, 5), min_size=4, max_size=4).map(lambda v: np.array(v, dtype=np.int32)),
)
values = st.recursive(scalars | arrays, lambda inner: st.lists(inner, max_size=3) | st.tuples(inner, inner)
                      | st.dictionaries(st.text(max_size=3), inner, max_size=3), max_leaves=8)


def same(a, b) -> bool:
    if isinstance(a, np.ndarray):
        return (isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape
                and a.tobytes() == b.tobytes())
    if isinstance(a, float):
        return isinstance(b, float) and (a == b or (a != a and b != b)) and str(a) == str(b)
    if isinstance(a, list | tuple):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


@given(values)
def test_encoded_values_survive_a_trip_through_json(value):
    text = compact_json({"v": encode_value(value)})
    assert same(decode_value(json.loads(text)["v"]), value)


def test_datasets_and_prompts_as_arguments_and_unknown_objects():
    ds = Dataset.from_samples([([0, 1], 0)], vocab=2)
    assert decode_value(encode_value(ds)) == ds
    assert decode_value(encode_value([Prompt((2, 0, 1))])) == [Prompt((2, 0, 1))]
    with pytest.raises(InvalidInput, match="cannot be restored"):
        decode_value(encode_value(object()))
