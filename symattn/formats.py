r"""Reading and writing datasets: JSON (``symattn.dataset/1``) and a plain text form.

JSON::

    {"format": "symattn.dataset/1", "vocab": ["a", "b", "c"] or 3,
     "embeddings": "onehot" or {"rows": [[1, 0], ["1/2", "1/2"], ...]},
     "samples": [{"tokens": ["a", "b", "c"], "label": "b"}, ...]}

Tokens and labels are names when ``vocab`` is a list of names, ids when it is an integer.
Embedding entries are numbers or exact strings like ``"1/3"``. Optional keys
``"description"`` (a string) and ``"meta"`` (any JSON object) are kept out of the way.

Text, one sample a line, ``#`` starts a comment, the vocabulary is the order of first
appearance unless a ``vocab:`` line declares it first::

    vocab: a b c
    a b c -> b     # tokens -> label

Every write is atomic. Every malformed file raises :class:`~symattn.errors.FileFormatError`
naming the file and the place.

>>> import tempfile, pathlib
>>> from symattn.data import Dataset
>>> ds = Dataset.from_samples([(["a", "b"], "a")], vocab=["a", "b"])
>>> path = pathlib.Path(tempfile.mkdtemp()) / "tiny.txt"
>>> _ = save_dataset(ds, path)
>>> print(path.read_text().strip())
vocab: a b
a b -> a
>>> load_dataset(path) == ds
True
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from symattn._io import DATASET_BYTES, Limit, read_input, save_text
from symattn._validate import as_int, require_dataset
from symattn.data import MAX_VOCAB, Dataset, Vocabulary
from symattn.embeddings import Embeddings, parse_number
from symattn.errors import FileFormatError, InvalidInput
from symattn.prompts import Prompt, Prompts

__all__ = [
    "DATASET_FORMAT",
    "MAX_PROMPTS_BYTES",
    "PROMPTS_FORMAT",
    "dataset_from_json",
    "dataset_to_json",
    "decode_text",
    "load_dataset",
    "load_prompts",
    "parse_prompts",
    "prompts_from_json",
    "prompts_to_json",
    "save_dataset",
    "save_prompts",
]

DATASET_FORMAT = "symattn.dataset/1"
PROMPTS_FORMAT = "symattn.prompts/1"
MAX_PROMPTS_BYTES = 64 * 2**20
"""Largest prompts file (or standard input) read by default: 64 MiB."""
PROMPTS_BYTES = Limit("SYMATTN_MAX_PROMPTS_BYTES", MAX_PROMPTS_BYTES, "prompt files")
"""The prompts limit, raised with the environment variable ``SYMATTN_MAX_PROMPTS_BYTES``."""
_PROMPT_KEYS = {"format", "vocab", "samples", "description", "meta"}
_KEYS = {"format", "vocab", "embeddings", "samples", "description", "meta"}
_SUFFIXES = (".json", ".txt")


def load_dataset(
    path: str | os.PathLike[str] | BinaryIO, *, drop_unrealizable: bool = False
) -> Dataset:
    """Read a dataset file: JSON when it ends in ``.json`` or starts with ``{``, text otherwise.

    Parameters
    ----------
    path : str, PathLike or binary file object
        The file (a regular file: FIFOs, devices and directories are refused), or an open
        binary stream such as ``sys.stdin.buffer``.
    drop_unrealizable : bool
        Drop (and count in ``n_dropped``) samples whose label is absent from their sequence
        instead of raising.

    Returns
    -------
    Dataset
        The validated dataset.

    Raises
    ------
    FileFormatError
        When the file cannot be read, is larger than the limit (64 MiB unless the environment
        variable ``SYMATTN_MAX_DATASET_BYTES`` says otherwise) or is malformed; the message
        names the file and the place.
    InvalidInput
        When ``path`` is neither a path nor a binary stream.

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "d.txt"
    >>> _ = path.write_text("a b -> a\\nb a -> a\\n")
    >>> ds = load_dataset(path)
    >>> ds.vocab.names, len(ds)
    (('a', 'b'), 2)
    """
    if hasattr(path, "read") and not isinstance(path, str | os.PathLike):
        name = str(getattr(path, "name", "<stream>"))
        text = decode_text(read_input(path, DATASET_BYTES, name=name), name)
        suffix = ""
    else:
        file = _as_path(path)
        name, suffix = str(file), file.suffix.lower()
        text = _read_text(file, DATASET_BYTES)
    is_json = suffix == ".json" or text.lstrip().startswith("{")
    try:
        if is_json:
            return dataset_from_json(_parse_json(text), drop_unrealizable=drop_unrealizable)
        return _from_text(text, drop_unrealizable=drop_unrealizable)
    except InvalidInput as exc:
        raise FileFormatError(f"{name}: {exc}") from None


def save_dataset(dataset: Dataset, path: str | os.PathLike[str]) -> Path:
    """Write ``dataset`` atomically: JSON for ``.json`` paths, text for ``.txt`` paths.

    The text form holds one-hot datasets only (it has no place for embedding rows).

    Parameters
    ----------
    dataset : Dataset
        The dataset to write.
    path : str or PathLike
        The target; its suffix (``.json`` or ``.txt``) chooses the format.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    InvalidInput
        For another suffix, or non-one-hot embeddings in a ``.txt`` file.
    FileFormatError
        When the file cannot be written (the message names the path and the reason).

    >>> import tempfile, pathlib
    >>> ds = Dataset.from_samples([([0, 1], 1)], vocab=2)
    >>> path = save_dataset(ds, pathlib.Path(tempfile.mkdtemp()) / "d.json")
    >>> json.loads(path.read_text())["samples"]
    [{'tokens': [0, 1], 'label': 1}]
    """
    require_dataset(dataset, "save_dataset")
    file = _as_path(path)
    if _saved_as_json(file, "a dataset file"):
        text = json.dumps(dataset_to_json(dataset), indent=1, allow_nan=False) + "\n"
    else:
        text = _to_text(dataset)
    return save_text(file, text)


def _read_text(file: Path, limit: Limit) -> str:
    """The UTF-8 text of the regular file ``file``, at most ``limit`` bytes (refused before reading)."""
    return decode_text(read_input(file, limit), str(file))


def decode_text(raw: bytes, source: str) -> str:
    """``raw`` decoded as UTF-8 (a leading byte-order mark dropped), else :class:`FileFormatError`
    naming ``source`` and the byte.

    >>> decode_text(b"\\xef\\xbb\\xbfa b", "x.txt")
    'a b'
    >>> decode_text(b"\\xff", "x.txt")
    Traceback (most recent call last):
    ...
    symattn.errors.FileFormatError: x.txt: not UTF-8 text (byte 0)
    """
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileFormatError(f"{source}: not UTF-8 text (byte {exc.start})") from None


def _saved_as_json(file: Path, what: str) -> bool:
    """Whether ``file`` is to be written as JSON (``.json``) rather than text (``.txt``); any other
    suffix is refused, naming ``what`` the file is."""
    suffix = file.suffix.lower()
    if suffix not in _SUFFIXES:
        raise InvalidInput(f"{file}: unknown suffix {file.suffix!r}; {what} ends in one of {list(_SUFFIXES)}")
    return suffix == ".json"


def _as_path(path: object) -> Path:
    if isinstance(path, str) and path:
        return Path(path)
    if isinstance(path, os.PathLike):
        return Path(path)
    raise InvalidInput(f"path {path!r} must be a non-empty string or a path-like object")


def dataset_to_json(dataset: Dataset) -> dict[str, Any]:
    """The JSON object of ``dataset`` (see the module docstring).

    >>> from symattn.data import Dataset
    >>> obj = dataset_to_json(Dataset.from_samples([(["x", "y"], "y")], vocab=["x", "y"]))
    >>> obj["vocab"], obj["embeddings"], obj["samples"]
    (['x', 'y'], 'onehot', [{'tokens': ['x', 'y'], 'label': 'y'}])
    """
    require_dataset(dataset, "dataset_to_json")
    names = dataset.vocab.names
    by_name = not dataset.vocab.is_default
    samples = []
    for i in range(len(dataset)):
        seq = dataset.tokens[dataset.offsets[i] : dataset.offsets[i + 1]].tolist()
        label = int(dataset.labels[i])
        samples.append({
            "tokens": [names[t] for t in seq] if by_name else seq,
            "label": names[label] if by_name else label,
        })
    emb = dataset.embeddings
    embeddings: Any = "onehot"
    if not emb.is_onehot:
        if emb.exact is not None:
            embeddings = {"rows": [[_exact_entry(v) for v in row] for row in emb.exact]}
        else:
            embeddings = {"rows": emb.matrix().tolist()}
    return {
        "format": DATASET_FORMAT,
        "vocab": list(names) if by_name else dataset.K,
        "embeddings": embeddings,
        "samples": samples,
    }


def _exact_entry(value: Fraction) -> int | str:
    return int(value) if value.denominator == 1 else str(value)


def dataset_from_json(obj: Any, *, drop_unrealizable: bool = False) -> Dataset:
    """Build a dataset from a parsed JSON object, validating every field.

    >>> ds = dataset_from_json({"format": "symattn.dataset/1", "vocab": 2,
    ...                         "samples": [{"tokens": [0, 1], "label": 0}]})
    >>> ds[0]
    Sample(tokens=(0, 1), label=0)
    """
    _check_keys(obj, _KEYS)
    if obj["format"] != DATASET_FORMAT:
        raise FileFormatError(
            f"format {obj['format']!r} is not supported; this version reads {DATASET_FORMAT!r}"
        )
    vocab = _json_vocab(obj["vocab"])
    embeddings = _json_embeddings(obj.get("embeddings", "onehot"), vocab.size)
    by_name = not isinstance(obj["vocab"], int)
    index = vocab.ids if by_name else {}
    flat: list[int] = []
    offsets, labels = [0], []
    for i, sample in _json_samples(obj, "sample"):
        tokens, label = sample["tokens"], sample["label"]
        flat.extend(_json_ids(tokens, index, i) if by_name else tokens)
        labels.append(_json_ids([label], index, i)[0] if by_name else label)
        offsets.append(len(flat))
    return Dataset.from_arrays(
        _int64(flat, "token"), offsets, _int64(labels, "label"), vocab=vocab, embeddings=embeddings,
        drop_unrealizable=drop_unrealizable,
    )


def _int64(values: list[int], what: str) -> np.ndarray:
    """The ids as an int64 array; an id beyond int64 is named in the error."""
    try:
        return np.array(values, dtype=np.int64)
    except OverflowError:
        as_int(next(v for v in values if not -(2**63) <= v < 2**63), what)  # raises, naming the id
        raise


def _json_ids(names: list[str], index: dict[str, int], i: int) -> list[int]:
    """Token ids of the names of sample ``i`` (one dict look-up each)."""
    try:
        return [index[name] for name in names]
    except KeyError as exc:
        raise InvalidInput(
            f"sample {i}: unknown token name {exc.args[0]!r}; the vocabulary has {len(index)} names such as "
            f"{list(index)[:5]}"
        ) from None


def _check_keys(obj: Any, allowed: set[str]) -> None:
    """A JSON object with only ``allowed`` keys, among them ``format``, ``vocab`` and ``samples``."""
    if not isinstance(obj, dict):
        raise FileFormatError(f"the top level must be a JSON object, got {type(obj).__name__}")
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise FileFormatError(f"unknown key(s) {unknown}; allowed keys are {sorted(allowed)}")
    for key in ("format", "vocab", "samples"):
        if key not in obj:
            raise FileFormatError(f"missing key {key!r}")


_SAMPLE_FORMS = {
    "sample": ({"tokens", "label"}, "'tokens' and 'label'", '{"tokens": [...], "label": ...}'),
    "prompt": ({"tokens"}, "'tokens' (a prompt has no label)", '{"tokens": [...]}'),
}
"""What each ``samples`` entry holds in a dataset file and in a prompts file: its keys, and how
the messages name them."""


def _json_samples(obj: dict[str, Any], what: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """The entries of ``obj["samples"]`` (``what`` is ``"sample"`` or ``"prompt"``), each checked.

    ``samples`` must be a non-empty list of objects with exactly the keys of ``what``, each with a
    non-empty ``tokens`` list; every token (and label) must be a name when the vocabulary is a list
    of names and an integer id when it is a count.
    """
    keys, named, shape = _SAMPLE_FORMS[what]
    samples = obj["samples"]
    if not isinstance(samples, list) or not samples:
        raise FileFormatError(f"'samples' must be a non-empty list of {shape} objects")
    by_name = not isinstance(obj["vocab"], int)
    kind = str if by_name else int
    for i, sample in enumerate(samples):
        if not isinstance(sample, dict) or set(sample) != keys:
            raise FileFormatError(
                f"{what} {i} must be an object with exactly {named}, got {str(sample)[:80]}"
            )
        tokens = sample["tokens"]
        if not isinstance(tokens, list) or not tokens:
            raise FileFormatError(f"{what} {i}: 'tokens' must be a non-empty list")
        values = [*tokens, sample["label"]] if "label" in keys else tokens
        if any(type(value) is not kind for value in values):  # one fast pass; the loop names the bad one
            for value in values:
                _check_token_value(value, by_name, i, what)
        yield i, sample


def _check_token_value(value: Any, by_name: bool, i: int, what: str = "sample") -> None:
    if by_name and not isinstance(value, str):
        raise FileFormatError(f"{what} {i}: token {value!r} must be a name (the vocab is a list of names)")
    if not by_name and (isinstance(value, bool) or not isinstance(value, int)):
        raise FileFormatError(f"{what} {i}: token {value!r} must be an integer id (the vocab is a count)")


def _json_vocab(value: Any) -> Vocabulary:
    if isinstance(value, bool):
        raise FileFormatError("'vocab' must be a positive integer or a list of names, got a boolean")
    if isinstance(value, int):
        if not 1 <= value <= MAX_VOCAB:
            raise FileFormatError(f"'vocab' = {value} must be between 1 and {MAX_VOCAB:,}")
        return Vocabulary(value)
    if isinstance(value, list):
        if not all(isinstance(v, str) for v in value):
            bad = next(v for v in value if not isinstance(v, str))
            raise FileFormatError(f"'vocab' names must be strings, found {bad!r}")
        return Vocabulary.from_names(value)
    raise FileFormatError(f"'vocab' must be a positive integer or a list of names, got {value!r}")


def _json_embeddings(value: Any, size: int) -> Embeddings:
    if value == "onehot":
        return Embeddings.onehot(size)
    if not isinstance(value, dict) or set(value) != {"rows"} or not isinstance(value["rows"], list):
        raise FileFormatError(
            f"'embeddings' must be \"onehot\" or {{\"rows\": [[...], ...]}}, got {str(value)[:80]!r}"
        )
    rows = value["rows"]
    if len(rows) != size:
        raise FileFormatError(f"'embeddings' has {len(rows)} rows but the vocabulary has {size} tokens")
    if not all(isinstance(row, list) for row in rows):
        raise FileFormatError("every embedding row must be a list of numbers")
    for r, row in enumerate(rows):
        for c, entry in enumerate(row):
            parse_number(entry, where=f"embedding row {r} column {c}")
    return Embeddings.given(rows)


def _reject_constant(name: str) -> None:
    raise FileFormatError(f"the JSON constant {name} is not allowed; numbers must be finite")


def _parse_json(text: str) -> Any:
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise FileFormatError(f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except (ValueError, RecursionError) as exc:
        raise FileFormatError(f"JSON cannot be read: {str(exc)[:120]}") from None


def _from_text(text: str, *, drop_unrealizable: bool) -> Dataset:
    """Parse the text form: names become ids by one dict look-up each (first appearance order
    unless a ``vocab:`` line declares the names)."""
    declared: list[str] | None = None
    ids: dict[str, int] = {}
    flat: list[int] = []
    offsets, labels = [0], []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("vocab:"):
            if declared is not None or labels:
                raise FileFormatError(f"line {lineno}: 'vocab:' must come once, before any sample")
            declared = line[len("vocab:") :].split()
            if not declared:
                raise FileFormatError(f"line {lineno}: 'vocab:' names no token")
            for name in declared:
                ids.setdefault(name, len(ids))
            continue
        left, arrow, right = line.partition("->")
        tokens, label = left.split(), right.split()
        if not arrow or not tokens or len(label) != 1 or "->" in right:
            raise FileFormatError(
                f"line {lineno}: {raw.strip()!r} is not of the form 'tok tok ... -> label'"
            )
        tokens.append(label[0])
        if declared is None:
            row = [ids.setdefault(name, len(ids)) for name in tokens]
        else:
            try:
                row = [ids[name] for name in tokens]
            except KeyError as exc:
                raise FileFormatError(
                    f"line {lineno}: token {exc.args[0]!r} is not in the declared vocab"
                ) from None
        labels.append(row.pop())
        flat.extend(row)
        offsets.append(len(flat))
    if not labels:
        raise FileFormatError("no sample found; write one sample a line as 'a b c -> b'")
    try:
        vocab = Vocabulary.from_names(declared if declared is not None else list(ids))
    except InvalidInput as exc:
        raise FileFormatError(f"vocab: {exc}") from None
    return Dataset.from_arrays(flat, offsets, labels, vocab=vocab, drop_unrealizable=drop_unrealizable)


def _to_text(dataset: Dataset) -> str:
    if not dataset.embeddings.is_onehot:
        raise InvalidInput(
            f"the text format holds one-hot datasets only; these embeddings are "
            f"{dataset.embeddings.kind.value}: save to a .json path instead"
        )
    names = dataset.vocab.names
    lines = ["vocab: " + " ".join(names)]
    for i in range(len(dataset)):
        seq = dataset.tokens[dataset.offsets[i] : dataset.offsets[i + 1]]
        lines.append(" ".join(names[t] for t in seq) + " -> " + names[int(dataset.labels[i])])
    return "\n".join(lines) + "\n"


# -- prompts ----------------------------------------------------------------------------------
def load_prompts(path: str | os.PathLike[str], vocab: Vocabulary) -> Prompts:
    """Read a prompts file against the dataset's vocabulary (see :func:`parse_prompts`).

    Parameters
    ----------
    path : str or PathLike
        The file: JSON (``symattn.prompts/1``) when it ends in ``.json`` or starts with ``{``,
        otherwise text with one prompt a line.
    vocab : Vocabulary
        The vocabulary of the dataset the prompts go to; names are resolved in it.

    Returns
    -------
    Prompts
        The validated prompts.

    Raises
    ------
    FileFormatError
        When the file cannot be read, is larger than :data:`MAX_PROMPTS_BYTES` or is malformed;
        the message names the file, the line (text) or prompt index (JSON) and the bad value.

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "p.txt"
    >>> _ = path.write_text("a b  # first\\nb\\n")
    >>> [p.tokens for p in load_prompts(path, Vocabulary.from_names(["a", "b"]))]
    [(0, 1), (1,)]
    """
    file = _as_path(path)
    text = _read_text(file, PROMPTS_BYTES)
    return parse_prompts(text, vocab, source=str(file), json_form=file.suffix.lower() == ".json")


def parse_prompts(
    text: str, vocab: Vocabulary, *, source: str = "<prompts>", json_form: bool = False
) -> Prompts:
    """Prompts from the text of a prompts file (or standard input).

    Text form: one prompt a line, its tokens separated by spaces (names, or ids when the
    vocabulary is a number); ``#`` starts a comment; blank lines are skipped. JSON form, the
    dataset form without labels::

        {"format": "symattn.prompts/1", "vocab": ["a", "b"] or 2,
         "samples": [{"tokens": ["a", "b"]}, ...]}

    where ``vocab`` must equal the dataset's vocabulary. JSON is assumed when ``json_form`` is
    true or the text starts with ``{``.

    >>> v = Vocabulary.from_names(["a", "b"])
    >>> [p.tokens for p in parse_prompts("a b\\n\\n b b a", v)]
    [(0, 1), (1, 1, 0)]
    >>> parse_prompts("a\\na c", v, source="p.txt")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    symattn.errors.FileFormatError: p.txt: line 2: token 'c' is not in the vocabulary ...
    """
    if not isinstance(text, str):
        raise InvalidInput(f"parse_prompts needs the text as a str, got {type(text).__name__}")
    if not isinstance(vocab, Vocabulary):
        raise InvalidInput(f"vocab must be a Vocabulary, got {type(vocab).__name__}")
    try:
        if json_form or text.lstrip().startswith("{"):
            return prompts_from_json(_parse_json(text), vocab)
        return _prompts_from_text(text, vocab)
    except InvalidInput as exc:
        raise FileFormatError(f"{source}: {exc}") from None


def _prompts_from_text(text: str, vocab: Vocabulary) -> Prompts:
    prompts = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        names = raw.split("#", 1)[0].split()
        if not names:
            continue
        if "->" in names:
            raise FileFormatError(
                f"line {lineno}: {raw.strip()[:80]!r} has a label ('->'); a prompt is tokens only, "
                "e.g. 'a b c'"
            )
        ids = []
        for name in names:
            try:
                ids.append(vocab.index(name))
            except InvalidInput:
                raise FileFormatError(
                    f"line {lineno}: token {name[:40]!r} is not in the vocabulary "
                    f"(names such as {list(vocab.names[:5])})"
                ) from None
        try:
            prompts.append(Prompt(tuple(ids)))
        except InvalidInput as exc:
            raise FileFormatError(f"line {lineno}: {exc}") from None
    if not prompts:
        raise FileFormatError("no prompt found; write one prompt a line, e.g. 'a b c'")
    return Prompts(tuple(prompts), vocab)


def prompts_from_json(obj: Any, vocab: Vocabulary) -> Prompts:
    """Prompts from a parsed ``symattn.prompts/1`` JSON object (see :func:`parse_prompts`).

    >>> obj = {"format": "symattn.prompts/1", "vocab": 3, "samples": [{"tokens": [2, 0]}]}
    >>> prompts_from_json(obj, Vocabulary(3))[0].tokens
    (2, 0)
    """
    _check_keys(obj, _PROMPT_KEYS)
    if obj["format"] != PROMPTS_FORMAT:
        raise FileFormatError(
            f"format {str(obj['format'])[:60]!r} is not a prompts file; prompts files have format "
            f"{PROMPTS_FORMAT!r} and samples without labels"
        )
    declared = _json_vocab(obj["vocab"])
    if declared.names != vocab.names:
        raise FileFormatError(
            f"'vocab' {list(declared.names[:5])} (K={declared.size}) differs from the dataset's "
            f"{list(vocab.names[:5])} (K={vocab.size}); prompts must use the dataset's vocabulary"
        )
    prompts = []
    for i, sample in _json_samples(obj, "prompt"):
        try:
            prompts.append(Prompt.parse(sample["tokens"], vocab))
        except InvalidInput as exc:
            raise FileFormatError(f"prompt {i}: {exc}") from None
    return Prompts(tuple(prompts), vocab)


def prompts_to_json(prompts: Prompts) -> dict[str, Any]:
    """The ``symattn.prompts/1`` JSON object of ``prompts``.

    >>> ps = Prompts.from_sequences(["b a"], vocab=["a", "b"])
    >>> prompts_to_json(ps)["samples"]
    [{'tokens': ['b', 'a']}]
    """
    if not isinstance(prompts, Prompts):
        raise InvalidInput(f"prompts_to_json needs Prompts, got {type(prompts).__name__}")
    by_name = not prompts.vocab.is_default
    return {
        "format": PROMPTS_FORMAT,
        "vocab": list(prompts.vocab.names) if by_name else prompts.vocab.size,
        "samples": [
            {"tokens": list(p.names(prompts.vocab)) if by_name else list(p.tokens)} for p in prompts
        ],
    }


def save_prompts(prompts: Prompts, path: str | os.PathLike[str]) -> Path:
    """Write ``prompts`` atomically: JSON for ``.json`` paths, one prompt a line for ``.txt``.

    >>> import tempfile, pathlib
    >>> ps = Prompts.from_sequences(["b a", "a"], vocab=["a", "b"])
    >>> path = save_prompts(ps, pathlib.Path(tempfile.mkdtemp()) / "p.txt")
    >>> path.read_text()
    'b a\\na\\n'
    """
    if not isinstance(prompts, Prompts):
        raise InvalidInput(f"save_prompts needs Prompts, got {type(prompts).__name__}")
    file = _as_path(path)
    if _saved_as_json(file, "a prompts file"):
        text = json.dumps(prompts_to_json(prompts), indent=1) + "\n"
    else:
        text = "".join(prompts.text(i) + "\n" for i in range(len(prompts)))
    return save_text(file, text)
