"""Prompt and weight arguments shared by ``symattn next``, ``symattn generate`` and the demo."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from symattn._io import read_input
from symattn.data import Dataset
from symattn.errors import InvalidInput
from symattn.formats import PROMPTS_BYTES, decode_text, load_prompts, parse_prompts
from symattn.prompts import Prompt, Prompts
from symattn.weights import load_weights

__all__ = ["collect_prompts", "read_stdin", "weights_arg", "weights_of"]


def read_stdin(stream: Any = None) -> str:
    """Standard input as text, refusing more than the prompts limit (64 MiB unless
    ``SYMATTN_MAX_PROMPTS_BYTES`` says otherwise)."""
    source = sys.stdin.buffer if stream is None else stream
    return decode_text(read_input(source, PROMPTS_BYTES, name="<stdin>"), "<stdin>")


def collect_prompts(dataset: Dataset, values: Sequence[str], files: Sequence[str]) -> Prompts:
    """Prompts from arguments (each one space-separated prompt, ``-`` for standard input) and files.

    >>> from symattn.examples import load_example
    >>> [p.tokens for p in collect_prompts(load_example(), ["a b", "f"], [])]
    [(0, 1), (5,)]
    """
    vocab = dataset.vocab
    if list(values).count("-") > 1:
        raise InvalidInput("'-' (standard input) may be given once")
    found: list[Prompt] = []
    for i, value in enumerate(values):
        if value == "-":
            found.extend(parse_prompts(read_stdin(), vocab, source="<stdin>"))
            continue
        try:
            found.append(Prompt.parse(value, vocab))
        except InvalidInput as exc:
            raise InvalidInput(f"prompt {i + 1} ({value[:60]!r}): {exc}") from None
    for path in files:
        found.extend(load_prompts(path, vocab))
    if not found:
        raise InvalidInput(
            "no prompt given: pass prompts like \"a b c\", '-' for standard input, or --prompts FILE"
        )
    return Prompts(tuple(found), vocab)


def weights_arg(parser: argparse.ArgumentParser) -> None:
    """Add ``--weights FILE`` and ``--weights-key NAME`` (any file :func:`~symattn.load_weights` reads)."""
    parser.add_argument(
        "--weights", metavar="FILE",
        help="weights W (d x d): .npy, .npz, or JSON rows of numbers or exact strings like '3/2'",
    )
    parser.add_argument("--weights-key", metavar="NAME", help="the .npz member or JSON key holding W")


def weights_of(args: argparse.Namespace, dataset: Dataset) -> np.ndarray | None:
    """The matrix named by ``--weights``, checked against the embeddings' dimension, or ``None``."""
    if args.weights is None:
        return None
    return load_weights(args.weights, key=args.weights_key, dim=dataset.embeddings.dim).matrix
