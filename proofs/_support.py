"""Shared pieces of the executable proofs: the failure type, exact zero tests, the Markdown record."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import sympy as sp

__all__ = ["Derivation", "ProofFailed", "exponentials_as_symbols", "is_zero", "latex"]

T = TypeVar("T")


class ProofFailed(AssertionError):
    """A derivation step did not hold exactly: the message names the step and the residue."""


def is_zero(expr: sp.Expr | sp.Matrix) -> bool:
    """Exact zero test: the expanded numerator over a common denominator must vanish.

    For a rational function of symbols this decides zero exactly; ``simplify`` runs only when
    an ``exp`` or ``log`` is left in the numerator.

    >>> x = sp.Symbol("x")
    >>> is_zero(sp.exp(2 * x) - sp.exp(x) ** 2), is_zero(x)
    (True, False)
    """
    if isinstance(expr, sp.MatrixBase):
        return all(is_zero(e) for e in expr)
    numerator, _ = sp.fraction(sp.together(expr))
    value = sp.expand(numerator)
    if value == 0 or not value.has(sp.exp, sp.log):
        return value == 0
    return sp.simplify(value) == 0


def latex(expr: object) -> str:
    """LaTeX of a SymPy object (deterministic ordering)."""
    return sp.latex(expr, order="lex") if isinstance(expr, sp.Basic) else sp.latex(expr)


@dataclass
class Derivation:
    """The record of one proof: statement, then steps of text and display math, as Markdown.

    Each ``require*`` call asserts one exact fact and raises :class:`ProofFailed` otherwise.
    """

    title: str
    statement: str
    lines: list[str] = field(default_factory=list)
    checks: int = 0

    def say(self, text: str) -> None:
        """Add a paragraph."""
        self.lines.extend([text, ""])

    def show(self, *formulas: str) -> None:
        """Add display math, one formula a line."""
        for formula in formulas:
            self.lines.extend(["$$", formula, "$$", ""])

    def table(self, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
        """Add a Markdown table."""
        self.lines.append("| " + " | ".join(header) + " |")
        self.lines.append("|" + "---|" * len(header))
        self.lines.extend("| " + " | ".join(str(cell) for cell in row) + " |" for row in rows)
        self.lines.append("")

    def require(self, condition: bool, step: str) -> None:
        """Assert ``condition`` (an exact fact computed by the caller)."""
        self.checks += 1
        if not condition:
            raise ProofFailed(f"{self.title}: step failed: {step}")

    def require_present(self, value: T | None, step: str) -> T:
        """Assert that ``value`` exists (is not ``None``) and return it."""
        self.require(value is not None, step)
        assert value is not None
        return value

    def require_zero(self, expr: sp.Expr | sp.Matrix, step: str) -> None:
        """Assert that ``expr`` is exactly zero."""
        self.checks += 1
        if not is_zero(expr):
            residue = sp.expand(expr) if not isinstance(expr, sp.MatrixBase) else expr.applyfunc(sp.expand)
            raise ProofFailed(f"{self.title}: step failed: {step}; residue {residue} is not zero")

    def require_all_zero(self, exprs: Iterable[sp.Expr], step: str) -> None:
        """Assert that every expression of ``exprs`` is exactly zero."""
        for n, expr in enumerate(exprs):
            self.require_zero(expr, f"{step} (item {n})")

    def markdown(self) -> str:
        """The derivation as a Markdown page (no timings, so regenerating it is byte-stable)."""
        head = [f"# {self.title}", "", f"**Statement.** {self.statement}", ""]
        tail = [f"*{self.checks} exact checks, all passed.* Regenerate: `symattn prove --write-docs`.", ""]
        body = list(self.lines)
        while body and body[-1] == "":
            body.pop()
        return "\n".join([*head, *body, "", *tail])


def exponentials_as_symbols(
    expr: sp.Expr | sp.Matrix, exponents: dict[int, sp.Expr], name: str = "z"
) -> tuple[sp.Expr | sp.Matrix, dict[int, sp.Symbol]]:
    r"""Replace every :math:`e^{m a_j}` in ``expr`` by :math:`z_j^m` (positive symbols, rational :math:`m`).

    Expressions built from softmaxes are rational functions of the :math:`e^{a_j}`; after the
    replacement an exact zero test is a polynomial identity, which ``cancel`` decides quickly.
    Raises :class:`ProofFailed` if an exponential is not a multiple of one exponent.

    >>> a, b = sp.symbols("a b", real=True)
    >>> exponentials_as_symbols(sp.exp(2 * a) / (sp.exp(a) + sp.exp(b)), {0: a, 1: b})[0]
    z_0**2/(z_0 + z_1)
    """
    z = {j: sp.Symbol(f"{name}_{j}", positive=True) for j in exponents}
    targets = {j: sp.expand(e) for j, e in exponents.items()}
    replacement: dict[sp.Expr, sp.Expr] = {}
    atoms = expr.atoms(sp.exp)
    for atom in sorted(atoms, key=sp.default_sort_key):
        arg = sp.expand(atom.args[0])
        for j, target in targets.items():
            ratio = sp.cancel(arg / target) if target != 0 else None
            if ratio is not None and ratio.is_Rational:
                replacement[atom] = z[j] ** ratio
                break
        else:
            raise ProofFailed(f"exp({arg}) is not a rational multiple of one score")
    return expr.xreplace(replacement), z
