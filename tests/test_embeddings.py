from fractions import Fraction

import numpy as np
import pytest

from symattn import EmbeddingKind, Embeddings, InvalidInput
from symattn.embeddings import as_generator, parse_number


@pytest.mark.parametrize("seed", [0, 1, np.random.default_rng(5)])
def test_orthonormal_rows(seed):
    E = Embeddings.orthonormal(4, 7, seed=seed)
    assert np.allclose(E.matrix() @ E.matrix().T, np.eye(4), atol=1e-14)
    assert E.is_orthonormal and E.is_independent and E.rank == 4


def test_seeds_are_reproducible():
    a = Embeddings.random_unit(5, 3, seed=11).matrix()
    b = Embeddings.random_unit(5, 3, seed=11).matrix()
    assert np.array_equal(a, b)
    E = Embeddings.random_unit(5, 3, seed=11)
    assert E.rank == 3 and not E.is_independent and not E.is_orthonormal


def test_seed_of_any_integer_type_and_negative_seeds_refused():
    assert as_generator(np.int64(7)).integers(1000) == as_generator(7).integers(1000)
    for bad in (-1, np.int32(-3), 1.5, "0", True):
        with pytest.raises(InvalidInput, match=r"seed=.*non-negative integer"):
            as_generator(bad)


def test_equicorrelated_gram():
    E = Embeddings.equicorrelated(4, -0.2)
    G = E.gram()
    assert np.allclose(np.diag(G), 1) and np.allclose(G[~np.eye(4, dtype=bool)], -0.2)
    with pytest.raises(InvalidInput, match="rho"):
        Embeddings.equicorrelated(4, -0.5)


def test_given_exact_rows_and_exact_rank():
    E = Embeddings.given([["1", "1/3"], [3, 1]])
    assert E.kind is EmbeddingKind.GIVEN and E.exact is not None
    assert E.rank == 1 and not E.is_independent  # exactly dependent: (3, 1) = 3 * (1, 1/3)
    assert E.exact_matrix()[0][1] == Fraction(1, 3)


def test_onehot_is_lazy_and_exact():
    E = Embeddings.onehot(200_000)
    assert E.rows is None and E.is_exact and E.rank == 200_000


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([[1.0, float("nan")]], r"row 0 column 1: nan is not finite"),
        ([[float("inf")]], "not finite"),
        ([[1, 2], [3]], "row 1 has 1 entries"),
        ([["1e999999"]], "not a number"),
        ([["1/0"]], "not a number"),
        ([[True]], "boolean"),
        ([[None]], "NoneType"),
        ([], "non-empty"),
        ([[2**300]], "too large"),
    ],
)
def test_bad_rows(rows, message):
    with pytest.raises(InvalidInput, match=message):
        Embeddings.given(rows)


def test_bad_array_rows():
    with pytest.raises(InvalidInput, match=r"row 0 column 0 is nan"):
        Embeddings.given(np.array([[np.nan]]))
    with pytest.raises(InvalidInput, match="2-D"):
        Embeddings.given(np.zeros(3))


def test_float_rows_are_not_exact():
    E = Embeddings.given([[0.5, 0.25]])
    assert E.exact is None and not E.is_exact
    with pytest.raises(InvalidInput, match="floating point"):
        E.exact_matrix()


@pytest.mark.parametrize(
    ("text", "value"), [("3", Fraction(3)), ("-2/4", Fraction(-1, 2)), ("0.125", Fraction(1, 8)), (".5", Fraction(1, 2))]
)
def test_parse_number_exact(text, value):
    assert parse_number(text, where="x") == value


@pytest.mark.parametrize("text", ["nan", "inf", "1e5", "1/2/3", "", "0x10", "१२", "1" * 61])
def test_parse_number_refuses(text):
    with pytest.raises(InvalidInput):
        parse_number(text, where="x")
