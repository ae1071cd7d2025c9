"""Hostile files: whatever the bytes, loading gives a dataset or a FileFormatError, never another exception."""

import contextlib
import json

from hypothesis import given
from hypothesis import strategies as st

from symattn import FileFormatError, load_dataset
from symattn.formats import DATASET_FORMAT

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=6)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4), max_leaves=12)

near_valid = st.fixed_dictionaries(
    {
        "format": st.sampled_from([DATASET_FORMAT, "symattn.dataset/2", 1]),
        "vocab": st.one_of(st.integers(-2, 6), st.lists(st.sampled_from(["a", "b", "c", "a", "", " "]), max_size=4), json_values),
        "samples": st.lists(
            st.fixed_dictionaries({"tokens": st.lists(st.one_of(st.integers(-1, 7), st.sampled_from(["a", "b", "z"])), max_size=4), "label": st.one_of(st.integers(-1, 7), st.sampled_from(["a", "b"]))}) | json_values,
            max_size=4,
        ),
    },
    optional={"embeddings": st.one_of(st.just("onehot"), st.fixed_dictionaries({"rows": st.lists(st.lists(st.one_of(st.integers(-3, 3), st.sampled_from(["1/2", "x", "1e9", "0.5"])), max_size=3), max_size=4)}), json_values)},
)


def _load(tmp_path_factory, name, content):
    path = tmp_path_factory.mktemp("fuzz") / name
    path.write_text(content, encoding="utf-8")
    with contextlib.suppress(FileFormatError):
        load_dataset(path)


@given(st.one_of(json_values, near_valid))
def test_any_json_loads_or_raises_file_format_error(tmp_path_factory, obj):
    _load(tmp_path_factory, "d.json", json.dumps(obj))


@given(st.text(alphabet="ab c->#\n\t:vocab", max_size=60))
def test_any_text_loads_or_raises_file_format_error(tmp_path_factory, text):
    _load(tmp_path_factory, "d.txt", text)
