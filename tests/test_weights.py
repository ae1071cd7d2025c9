"""Reading weight and embedding matrices: formats, keys, factors, tensors, and hostile files."""

import io
import json
import zipfile
from fractions import Fraction

import numpy as np
import pytest

from symattn.errors import FileFormatError, InvalidInput
from symattn.weights import Weights, as_weights, factor_weights, load_embeddings, load_weights


def test_npy_keeps_dtype_and_values(tmp_path):
    W = np.arange(9, dtype=np.float32).reshape(3, 3) / 7
    np.save(tmp_path / "w.npy", W)
    w = load_weights(tmp_path / "w.npy", dim=3)
    assert w.dtype == np.float32 and w.matrix.dtype == np.float64
    assert np.array_equal(w.matrix, W.astype(np.float64))
    assert w.eps == float(np.finfo(np.float32).eps) and not w.exact
    assert not w.matrix.flags.writeable


def test_fortran_order_npy(tmp_path):
    W = np.asfortranarray(np.arange(6.0).reshape(2, 3) @ np.ones((3, 2)) + np.eye(2))
    np.save(tmp_path / "w.npy", W)
    assert np.array_equal(load_weights(tmp_path / "w.npy").matrix, W)


def test_integer_npy_is_exact(tmp_path):
    np.save(tmp_path / "w.npy", np.eye(2, dtype=np.int64))
    assert load_weights(tmp_path / "w.npy").exact


def test_npz_member_choice(tmp_path):
    path = tmp_path / "w.npz"
    np.savez(path, A=np.eye(2), B=2 * np.eye(2))
    assert load_weights(path, key="B").matrix[0, 0] == 2.0
    assert load_weights(path, key="B").source == "w.npz[B]"
    with pytest.raises(FileFormatError, match=r"2 arrays \['A', 'B'\]; name the one holding W \(key=NAME"):
        load_weights(path)
    with pytest.raises(FileFormatError, match=r"no member 'C'; the members are \['A', 'B'\]"):
        load_weights(path, key="C")
    np.savez(path, other=np.eye(2), W=3 * np.eye(2))
    assert load_weights(path).matrix[1, 1] == 3.0  # "W" is taken when present
    np.savez(path, only=np.eye(2))
    assert load_weights(path).source == "w.npz[only]"


@pytest.mark.parametrize("form", ["csc", "coo"])
def test_sparse_npz_is_named_with_the_fix(tmp_path, form):
    """A file from scipy.sparse.save_npz is said to be one, with the dense file or the Python call to use."""
    from scipy import sparse

    path = tmp_path / "w.npz"
    sparse.save_npz(path, sparse.eye(3, format=form))
    with pytest.raises(FileFormatError, match=r"a SciPy sparse matrix \(scipy.sparse.save_npz\).*W.toarray"):
        load_weights(path)


def test_json_numbers_and_exact_strings(tmp_path):
    path = tmp_path / "w.json"
    path.write_text(json.dumps([["3/2", 0.25], [-1, "-2/3"]]))
    w = load_weights(path, dim=2)
    assert w.matrix.tolist() == [[1.5, 0.25], [-1.0, float(Fraction(-2, 3))]]
    assert not w.exact  # 0.25 came as a float
    path.write_text(json.dumps({"weights": [["3/2", "1"], ["0", "-1/3"]]}))
    w = load_weights(path, key="weights")
    assert w.exact and w.source == "w.json[weights]"


@pytest.mark.parametrize("text, message", [
    ('[[1, 2], [3]]', "rows of different lengths"),
    ('[[1, NaN], [0, 1]]', "not valid JSON"),
    ('[[1, "1e999"], [0, 1]]', "not a number"),
    ('[[1, true], [0, 1]]', "boolean"),
    ('{"V": [[1]]}', "no key 'W'"),
    ("[]", "non-empty list of rows"),
    ("[[1, 2]]", "W must be square"),
])
def test_bad_json(tmp_path, text, message):
    path = tmp_path / "w.json"
    path.write_text(text)
    with pytest.raises(FileFormatError, match=message):
        load_weights(path)


def test_factor_pair(tmp_path):
    rng = np.random.default_rng(0)
    K, Q = rng.normal(size=(4, 2)), rng.normal(size=(4, 2))
    np.savez(tmp_path / "f.npz", K=K, Q=Q)
    assert np.allclose(load_weights(tmp_path / "f.npz", factors=True, dim=4).matrix, K @ Q.T)
    np.savez(tmp_path / "g.npz", key=K, query=Q.astype(np.float32))
    w = load_weights(tmp_path / "g.npz", factors=True, key="key,query")
    assert np.allclose(w.matrix, K @ Q.T, atol=1e-6) and w.dtype == np.float64
    (tmp_path / "f.json").write_text(json.dumps({"K": K.tolist(), "Q": Q.tolist()}))
    assert np.allclose(load_weights(tmp_path / "f.json", factors=True).matrix, K @ Q.T)
    with pytest.raises(FileFormatError, match="two members 'K,Q'"):
        load_weights(tmp_path / "g.npz", factors=True, key="key")
    with pytest.raises(InvalidInput, match="same shape"):
        factor_weights(K, Q[:, :1])


def test_object_arrays_are_never_unpickled(tmp_path):
    path = tmp_path / "w.npy"
    np.save(path, np.array([[{"a": 1}, None], [1, 2]], dtype=object), allow_pickle=True)
    with pytest.raises(FileFormatError, match="dtype object is not a real number type"):
        load_weights(path)


@pytest.mark.parametrize("array, message", [
    (np.ones((2, 2), dtype=np.complex128), "dtype complex128"),
    (np.ones((2, 2, 2)), "2-D matrix"),
    (np.ones((2, 3)), "W must be square"),
    (np.array([[1.0, np.nan], [0.0, 1.0]]), r"\[0, 1\] = nan"),
    (np.ones((2, 2), dtype=bool), "dtype bool"),
])
def test_bad_npy(tmp_path, array, message):
    path = tmp_path / "w.npy"
    np.save(path, array)
    with pytest.raises(FileFormatError, match=message):
        load_weights(path)


def test_shape_is_checked_from_the_header_before_reading(tmp_path):
    path = tmp_path / "w.npy"
    with path.open("wb") as f:
        header = {"descr": "<f8", "fortran_order": False, "shape": (100000, 100000)}
        np.lib.format.write_array_header_1_0(f, header)
    with pytest.raises(FileFormatError, match="data need 3 rows"):
        load_weights(path, dim=3)
    with pytest.raises(FileFormatError, match="more than max_entries"):
        load_weights(path)
    with path.open("wb") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": "<f8", "fortran_order": False, "shape": (3, 3)})
        f.write(b"\0" * 16)
    with pytest.raises(FileFormatError, match="data are shorter"):
        load_weights(path)


def test_npz_member_size_is_checked_before_inflating(tmp_path):
    buffer = io.BytesIO()
    np.save(buffer, np.zeros((2000, 2000)))
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("W.npy", buffer.getvalue())
    assert path.stat().st_size < 100_000  # 32 MB of zeros, compressed
    with pytest.raises(FileFormatError, match="inflates to 32000128 bytes"):
        load_weights(path, max_entries=1000)


@pytest.mark.parametrize("name", ["w.txt", "w.pt", "w.pkl"])
def test_unknown_suffix(tmp_path, name):
    (tmp_path / name).write_bytes(b"\x80\x04K\x01.")
    with pytest.raises(FileFormatError, match="unknown suffix"):
        load_weights(tmp_path / name)


def test_not_a_regular_file(tmp_path):
    with pytest.raises(FileFormatError, match="not a regular file"):
        load_weights(tmp_path)
    with pytest.raises(FileFormatError, match="cannot read"):
        load_weights(tmp_path / "missing.npy")


def test_not_an_archive(tmp_path):
    (tmp_path / "w.npz").write_bytes(b"not a zip")
    with pytest.raises(FileFormatError, match=r"not a readable \.npz"):
        load_weights(tmp_path / "w.npz")


def test_as_weights_of_python_values():
    assert as_weights([[1, 2], [3, 4]]).exact
    assert as_weights([[Fraction(1, 2), 0], [0, 1]]).matrix[0, 0] == 0.5
    assert as_weights(np.eye(2, dtype=np.float16)).eps == float(np.finfo(np.float16).eps)
    w = as_weights(np.eye(2))
    assert as_weights(w) is w and isinstance(w, Weights)
    with pytest.raises(InvalidInput, match="the embeddings need 3 rows"):
        as_weights(np.eye(2), dim=3)
    with pytest.raises(InvalidInput, match="dtype <U1"):
        as_weights([["a", "b"], ["c", "d"]])
    with pytest.raises(InvalidInput, match="cannot be read as a real matrix"):
        as_weights([[1, 2], [3]])


def test_transposed():
    w = as_weights(np.arange(4.0).reshape(2, 2))
    assert np.array_equal(w.transposed().matrix, w.matrix.T)
    assert w.transposed().source.endswith("transposed")


def test_torch_tensors():
    torch = pytest.importorskip("torch", reason="tensors need the bench extra (torch)")
    t = torch.eye(3, dtype=torch.float32, requires_grad=True) * 2
    w = as_weights(t, dim=3)
    assert w.dtype == np.float32 and w.matrix[1, 1] == 2.0 and w.source == "Tensor"
    with pytest.raises(InvalidInput, match=r"detach\(\)\.cpu\(\)\.double\(\)\.numpy\(\)"):
        as_weights(torch.eye(2, dtype=torch.bfloat16))
    with pytest.raises(InvalidInput, match="complex64"):
        as_weights(torch.eye(2, dtype=torch.complex64))


def test_embeddings_files(tmp_path):
    E = np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 2.0]])
    np.save(tmp_path / "e.npy", E)
    assert np.array_equal(load_embeddings(tmp_path / "e.npy", size=3).matrix(), E)
    with pytest.raises(FileFormatError, match="data need 4 rows"):
        load_embeddings(tmp_path / "e.npy", size=4)
    (tmp_path / "e.json").write_text(json.dumps([["1", "0"], ["1/2", "1/2"], [0, 2]]))
    emb = load_embeddings(tmp_path / "e.json", size=3)
    assert emb.exact is not None and emb.exact[1][0] == Fraction(1, 2)
    np.savez(tmp_path / "e.npz", E=E, W=np.eye(2))
    assert load_embeddings(tmp_path / "e.npz", key="E").size == 3
