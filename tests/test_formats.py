import json
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from symattn import Dataset, FileFormatError, InvalidInput, load_dataset, save_dataset
from symattn.embeddings import Embeddings
from symattn.formats import DATASET_FORMAT, dataset_to_json
from symattn.strategies import datasets

names = st.lists(
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Z", "C"], exclude_characters="#"),
            min_size=1, max_size=4).filter(lambda s: s != "->"),
    min_size=6, max_size=6, unique=True,
)


@given(datasets(max_vocab=6, max_samples=8), names)
def test_round_trip_json_and_text(tmp_path_factory, ds, vocab_names):
    tmp = tmp_path_factory.mktemp("rt")
    named = Dataset.from_arrays(ds.tokens, ds.offsets, ds.labels, vocab=vocab_names[: ds.K])
    for d in (ds, named):
        for suffix in (".json", ".txt"):
            path = save_dataset(d, tmp / f"data{suffix}")
            assert load_dataset(path) == d


@given(datasets(max_vocab=4, max_samples=5, embeddings=st.sampled_from(["orthonormal", "given", "random_unit"])))
def test_round_trip_json_embeddings(tmp_path_factory, ds):
    path = save_dataset(ds, tmp_path_factory.mktemp("emb") / "data.json")
    back = load_dataset(path)
    assert back == ds
    assert (back.embeddings.exact is None) == (ds.embeddings.exact is None)


def test_exact_rows_written_as_strings(tmp_path):
    ds = Dataset.from_samples([([0, 1], 1)], vocab=2, embeddings=Embeddings.given([["1/3", 0], [0, 1]]))
    obj = dataset_to_json(ds)
    assert obj["embeddings"] == {"rows": [["1/3", 0], [0, 1]]}
    assert load_dataset(save_dataset(ds, tmp_path / "d.json")).embeddings.exact == ds.embeddings.exact


def test_text_form_comments_and_vocab_order(tmp_path):
    path = tmp_path / "d.txt"
    path.write_text("# a comment\n\nb a -> a   # trailing\nc b -> c\n")
    ds = load_dataset(path)
    assert ds.vocab.names == ("b", "a", "c")
    assert [(s.tokens, s.label) for s in ds] == [((0, 1), 1), ((2, 0), 2)]


def test_text_refuses_non_onehot(tmp_path):
    ds = Dataset.from_samples([([0], 0)], vocab=1, embeddings=Embeddings.given([[2.0]]))
    with pytest.raises(InvalidInput, match=r"save to a \.json path"):
        save_dataset(ds, tmp_path / "d.txt")


def _json(obj):
    return json.dumps(obj)


GOOD = {"format": DATASET_FORMAT, "vocab": 2, "samples": [{"tokens": [0, 1], "label": 1}]}

BAD_FILES = [
    ("d.json", "{not json", "invalid JSON at line 1"),
    ("d.json", "[1, 2]", "top level must be a JSON object"),
    ("d.json", _json({**GOOD, "format": "symattn.dataset/9"}), "'symattn.dataset/9' is not supported"),
    ("d.json", _json({k: v for k, v in GOOD.items() if k != "samples"}), "missing key 'samples'"),
    ("d.json", _json({**GOOD, "extra": 1}), r"unknown key\(s\) \['extra'\]"),
    ("d.json", _json({**GOOD, "vocab": 10**12}), "must be between 1 and"),
    ("d.json", _json({**GOOD, "vocab": True}), "got a boolean"),
    ("d.json", _json({**GOOD, "vocab": ["a", "a"]}), "duplicate token name 'a'"),
    ("d.json", _json({**GOOD, "vocab": ["a", 3]}), "names must be strings"),
    ("d.json", _json({**GOOD, "samples": []}), "non-empty list"),
    ("d.json", _json({**GOOD, "samples": [{"tokens": [0, 1]}]}), "exactly 'tokens' and 'label'"),
    ("d.json", _json({**GOOD, "samples": [{"tokens": "01", "label": 1}]}), "'tokens' must be a non-empty list"),
    ("d.json", _json({**GOOD, "samples": [{"tokens": [0, 1.5], "label": 1}]}), "must be an integer id"),
    ("d.json", _json({**GOOD, "samples": [{"tokens": [0, True], "label": 1}]}), "True must be an integer id"),
    ("d.json", _json({**GOOD, "vocab": ["a", "b"], "samples": [{"tokens": ["a", "b"], "label": "a"},
                                                                {"tokens": ["a", "z"], "label": "a"}]}),
     "sample 1: unknown token name 'z'"),
    ("d.json", _json({**GOOD, "vocab": ["a", "b"], "samples": [{"tokens": ["a", 1], "label": "a"}]}),
     "token 1 must be a name"),
    ("d.json", _json({**GOOD, "samples": [{"tokens": [0, 9], "label": 0}]}), "token 9 at position 1 is out of range"),
    ("d.json", _json({**GOOD, "samples": [{"tokens": [0, 1], "label": 0}, {"tokens": [1], "label": 0}]}),
     r"sample 1: label=0 is not in the sequence \[1\]"),
    ("d.json", _json({**GOOD, "embeddings": "random"}), "'embeddings' must be"),
    ("d.json", _json({**GOOD, "embeddings": {"rows": [[1, 0]]}}), "1 rows but the vocabulary has 2"),
    ("d.json", _json({**GOOD, "embeddings": {"rows": [[1, 0], [0, "x"]]}}), "row 1 column 1: 'x' is not a number"),
    ("d.json", _json({**GOOD, "embeddings": {"rows": [[1, 0], [0, "1e99999999"]]}}), "not a number"),
    ("d.json", '{"format": "symattn.dataset/1", "vocab": 2, "embeddings": {"rows": [[NaN, 0], [0, 1]]},'
               ' "samples": [{"tokens": [0], "label": 0}]}', "NaN is not allowed"),
    ("d.json", '{"vocab": ' + "9" * 5000 + "}", "cannot be read"),
    ("d.json", "[" * 100000 + "]" * 100000, "cannot be read"),
    ("d.txt", "a b c\n", "line 1: 'a b c' is not of the form"),
    ("d.txt", "a b -> a b\n", "is not of the form"),
    ("d.txt", "# only comments\n", "no sample found"),
    ("d.txt", "a b -> c\n", r"label=c is not in the sequence \[a, b\]"),
    ("d.txt", "vocab: a\na b -> a\n", "token 'b' is not in the declared vocab"),
    ("d.txt", "vocab: a b\na b -> c\n", "line 2: token 'c' is not in the declared vocab"),
    ("d.txt", "vocab: a b a\na b -> a\n", "duplicate token name 'a'"),
    ("d.txt", "a -> a\nvocab: a\n", "'vocab:' must come once"),
    ("d.txt", b"\xff\xfe a -> a", "not UTF-8"),
]


@pytest.mark.parametrize(("name", "content", "message"), BAD_FILES)
def test_bad_files_raise_file_format_error(tmp_path, name, content, message):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(FileFormatError, match=message) as info:
        load_dataset(path)
    assert str(path) in str(info.value)


def test_missing_file():
    with pytest.raises(FileFormatError, match="cannot read"):
        load_dataset("/nonexistent/data.json")


def test_drop_unrealizable_from_file(tmp_path):
    path = tmp_path / "d.txt"
    path.write_text("a b -> a\na b -> c\n")
    ds = load_dataset(path, drop_unrealizable=True)
    assert len(ds) == 1 and ds.n_dropped == 1


def test_write_is_atomic(tmp_path, monkeypatch):
    ds = Dataset.from_samples([([0, 1], 1)], vocab=2)
    path = save_dataset(ds, tmp_path / "d.json")
    before = path.read_bytes()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(FileFormatError, match=r"d\.json: cannot write \(disk full\)"):
        save_dataset(Dataset.from_samples([([1, 0], 0)], vocab=2), path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.json"]


def test_text_ids_follow_first_appearance_or_the_declared_vocab(tmp_path):
    path = tmp_path / "d.txt"
    path.write_text("c a c -> a  # comment\n\nb c -> b\n")
    ds = load_dataset(path)
    assert ds.vocab.names == ("c", "a", "b")
    assert ds.tokens.tolist() == [0, 1, 0, 2, 0] and ds.offsets.tolist() == [0, 3, 5] and ds.labels.tolist() == [1, 2]
    path.write_text("vocab: b a c\nc a c -> a\nb c -> b\n")
    ds = load_dataset(path)
    assert ds.tokens.tolist() == [2, 1, 2, 0, 2] and ds.labels.tolist() == [1, 0]
