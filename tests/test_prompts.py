import json
import os

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from symattn import FileFormatError, InvalidInput, Prompt, Prompts, Vocabulary
from symattn.formats import (
    MAX_PROMPTS_BYTES,
    PROMPTS_FORMAT,
    load_prompts,
    parse_prompts,
    prompts_from_json,
    prompts_to_json,
    save_prompts,
)
from symattn.prompts import MAX_PROMPT_LENGTH

NAMED = Vocabulary.from_names(["a", "b", "c"])


def test_prompt_query_counts_and_extend():
    p = Prompt([2, 0, 2, np.int64(1)])
    assert p.tokens == (2, 0, 2, 1) and p.query == 1 and len(p) == 4
    assert p.counts() == ((0, 1, 2), (1, 1, 2))
    assert p.extend(0).tokens == (2, 0, 2, 1, 0) and p.extend(0).query == 0


@pytest.mark.parametrize(
    ("tokens", "match"),
    [((), "at least one token"), ((1.0,), "not an integer"), (("a",), "not an integer"),
     ((True,), "not an integer"), ("ab", "sequence of token ids"), (3, "sequence of token ids"),
     ({0, 1}, "has no order"), ({0: 1}, "has no order")],
)
def test_prompt_refuses_bad_tokens(tokens, match):
    with pytest.raises(InvalidInput, match=match):
        Prompt(tokens)


def test_length_is_checked_before_the_tokens():
    # a prompt over the limit is refused at once, not after converting a million tokens
    with pytest.raises(InvalidInput, match="longer than 1,000,000"):
        Prompt([*range(MAX_PROMPT_LENGTH), "x"])
    assert len(Prompt(range(5))) == 5


def test_parse_by_name_by_id_and_string():
    assert Prompt.parse("c  a", NAMED).tokens == (2, 0)
    assert Prompt.parse(["c", 0], NAMED).tokens == (2, 0)
    assert Prompt.parse("2 0 1", Vocabulary(3)).tokens == (2, 0, 1)
    assert Prompt.parse(Prompt((1,)), NAMED).tokens == (1,)


@pytest.mark.parametrize(
    ("value", "match"),
    [("", "names no token"), ("a z", "unknown token name 'z'"), ([0, 3], "token 3 at position 1 is out of range"),
     ([-1], "out of range"), ("1", "unknown token name '1'"), (b"a", "must be a string"), (None, "must be"),
     ({"a", "b"}, "has no order"), ({"a": 0}, "has no order")],
)
def test_parse_refuses(value, match):
    with pytest.raises(InvalidInput, match=match):
        Prompt.parse(value, NAMED)


def test_prompts_validate_range_and_name_the_index():
    with pytest.raises(InvalidInput, match="prompt 1: token 5 is out of range for K=3"):
        Prompts((Prompt((0,)), Prompt((5,))), NAMED)
    with pytest.raises(InvalidInput, match=r"prompt 1: unknown token name 'x'"):
        Prompts.from_sequences(["a", "x"], vocab=NAMED)
    with pytest.raises(InvalidInput, match="no prompt given"):
        Prompts.from_sequences([], vocab=NAMED)
    with pytest.raises(InvalidInput, match="wrap a single prompt in a list"):
        Prompts.from_sequences("a b", vocab=NAMED)
    ps = Prompts.from_sequences(["a b", [2]], vocab=["a", "b", "c"])
    assert [p.tokens for p in ps] == [(0, 1), (2,)] and ps.text(0) == "a b" and ps[-1].tokens == (2,)


def test_text_form_comments_blank_lines_and_errors():
    ps = parse_prompts("# header\n\na b  # c is not read\n  c\n", NAMED)
    assert [p.tokens for p in ps] == [(0, 1), (2,)]
    with pytest.raises(FileFormatError, match=r"p.txt: line 3: token 'zz' is not in the vocabulary"):
        parse_prompts("a\n\nb zz\n", NAMED, source="p.txt")
    with pytest.raises(FileFormatError, match=r"line 1: .* has a label"):
        parse_prompts("a b -> a\n", NAMED)
    with pytest.raises(FileFormatError, match="no prompt found"):
        parse_prompts("# only a comment\n", NAMED)


def test_ids_when_the_vocabulary_is_a_number():
    assert [p.tokens for p in parse_prompts("3 0\n1", Vocabulary(4))] == [(3, 0), (1,)]
    with pytest.raises(FileFormatError, match="token '4' is not in the vocabulary"):
        parse_prompts("4", Vocabulary(4))


def test_json_form():
    obj = {"format": PROMPTS_FORMAT, "vocab": ["a", "b", "c"], "samples": [{"tokens": ["c", "a"]}]}
    assert [p.tokens for p in parse_prompts(json.dumps(obj), NAMED)] == [(2, 0)]
    assert prompts_from_json({**obj, "vocab": 3, "samples": [{"tokens": [1]}]}, Vocabulary(3))[0].tokens == (1,)


@pytest.mark.parametrize(
    ("change", "match"),
    [({"format": "symattn.dataset/1"}, "is not a prompts file"),
     ({"vocab": ["a", "b"]}, "differs from the dataset's"),
     ({"samples": [{"tokens": ["a"], "label": "a"}]}, "prompt 0 must be an object with exactly 'tokens'"),
     ({"samples": []}, "non-empty list"),
     ({"samples": [{"tokens": []}]}, "prompt 0: 'tokens' must be a non-empty list"),
     ({"samples": [{"tokens": ["a"]}, {"tokens": [1]}]}, "prompt 1: token 1 must be a name"),
     ({"samples": [{"tokens": ["q"]}]}, "prompt 0: unknown token name 'q'"),
     ({"extra": 1}, r"unknown key\(s\) \['extra'\]")],
)
def test_json_form_errors(change, match):
    obj = {"format": PROMPTS_FORMAT, "vocab": ["a", "b", "c"], "samples": [{"tokens": ["a"]}], **change}
    with pytest.raises(FileFormatError, match=match):
        parse_prompts(json.dumps(obj), NAMED, source="p.json")


def test_json_syntax_error_names_line_and_column():
    with pytest.raises(FileFormatError, match=r"p.json: invalid JSON at line 2 column 1"):
        parse_prompts('{"format":\n}', NAMED, source="p.json")


def test_file_size_is_bounded_before_reading(tmp_path):
    path = tmp_path / "big.txt"
    with open(path, "wb") as handle:
        handle.truncate(MAX_PROMPTS_BYTES + 1)
    with pytest.raises(FileFormatError, match="above the limit of 67,108,864 bytes for prompt files"):
        load_prompts(path, NAMED)
    with pytest.raises(FileFormatError, match="cannot read"):
        load_prompts(tmp_path / "missing.txt", NAMED)
    (tmp_path / "bad.txt").write_bytes(b"a \xff")
    with pytest.raises(FileFormatError, match=r"not UTF-8 text \(byte 2\)"):
        load_prompts(tmp_path / "bad.txt", NAMED)


def test_a_pipe_is_refused_by_name():
    # a pipe or FIFO (e.g. --prompts <(yes a)) could be endless: it is refused, never read
    read, write = os.pipe()
    try:
        os.write(write, b"a b\n" * 8)
        os.close(write)
        with pytest.raises(FileFormatError, match="not a regular file"):
            load_prompts(f"/dev/fd/{read}", NAMED)
    finally:
        os.close(read)


@given(st.lists(st.lists(st.integers(0, 2), min_size=1, max_size=5), min_size=1, max_size=4), st.booleans())
def test_round_trip(tmp_path_factory, seqs, named):
    vocab = NAMED if named else Vocabulary(3)
    ps = Prompts.from_sequences(seqs, vocab=vocab)
    folder = tmp_path_factory.mktemp("prompts")
    for suffix in (".txt", ".json"):
        back = load_prompts(save_prompts(ps, folder / f"p{suffix}"), vocab)
        assert [p.tokens for p in back] == [p.tokens for p in ps]
    assert prompts_to_json(ps)["vocab"] == (["a", "b", "c"] if named else 3)


@pytest.mark.parametrize(
    "kwargs", [{"seen_query": False}, {"min_length": 0}, {"max_length": 1, "min_length": 2}, {"seen_query": 1}]
)
def test_prompts_for_rejects_bad_arguments(kwargs):
    from hypothesis import settings
    from hypothesis.errors import InvalidArgument

    from symattn import Dataset
    from symattn.strategies import prompts_for

    every_token_a_query = Dataset.from_samples([([0, 1], 1), ([1, 0], 0)], vocab=2)

    @settings(max_examples=1, database=None)
    @given(prompts_for(every_token_a_query, **kwargs))
    def draw(_):
        raise AssertionError("a strategy with impossible arguments produced a value")

    with pytest.raises(InvalidArgument):
        draw()
