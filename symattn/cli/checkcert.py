"""Check a graph-SVM certificate exported by symattn, with the Python standard library only.
Usage: python checkcert.py CERTIFICATE.json (exit 0 accepted, 1 rejected, 2 unreadable).

A certificate ("format": "symattn.certificate/1", docs/verifying.md) holds a dataset (samples, exact
embeddings; vocab * dim at most 10**6), its graph-SVM constraints (docs/theory.md §4) and either an
exact W with multipliers ("status": "optimal") or Farkas multipliers ("status": "infeasible"); numbers
are integers or strings like "-2/3" (floats are refused). Importing nothing from symattn, it rebuilds the
constraints from the samples (edge label -> j for each other token j of a sequence, in its query's graph;
an equality when j also reaches the label) and checks in exact arithmetic, with m_c = (e_i - e_j)^T W e_k:

    primal feasibility   m_c = 0 on equalities, m_c >= 1 on inequalities
    dual sign            lambda_c >= 0 on inequalities
    complementarity      lambda_c (m_c - 1) = 0 on inequalities
    stationarity         W = sum_c lambda_c (e_i - e_j) e_k^T

The four are the KKT conditions of min ||W||_F^2 / 2 (convex), so together they prove that W is
its unique minimiser. An infeasibility certificate must satisfy sum_c lambda_c (e_i - e_j) e_k^T = 0,
lambda_c >= 0 on inequalities and a sum of 1 over them: a feasible W would then give 0 >= 1.

>>> cert = {"format": FORMAT, "status": "optimal", "vocab": 2, "dim": 2, "embeddings": "onehot",
...         "samples": [[[0, 1], 0]], "constraints": [[1, 0, 1, "ge"]],
...         "W": [[0, "1/2"], [0, "-1/2"]], "multipliers": ["1/2"]}
>>> [ok for _, ok, _ in check(cert)]
[True, True, True, True, True]
"""

import json
import sys
from fractions import Fraction

__all__ = ["FORMAT", "Malformed", "check", "main"]
FORMAT = "symattn.certificate/1"
MAX_BYTES = 1 << 26


class Malformed(Exception):
    """The file is not a well-formed certificate (the message says where)."""


def number(value, where):
    """An exact rational from an integer or a string like '-2/3' (nothing else)."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise Malformed(f"{where}: {value!r} is not an integer or a string like '-2/3'")
    text = str(value).strip()
    parts = (text[1:] if text[:1] in "+-" else text).split("/")
    if len(text) > 400 or len(parts) > 2 or not all(p.isascii() and p.isdigit() for p in parts) \
            or (len(parts) == 2 and int(parts[1]) == 0):
        raise Malformed(f"{where}: {value!r} is not an exact rational like '-2/3'")
    return Fraction(text)


def get(obj, key, kind):
    if not isinstance(obj, dict) or key not in obj or not isinstance(obj[key], kind):
        raise Malformed(f"{key!r} is missing or not a {kind.__name__}")
    return obj[key]


def integer(value, low, high, where):
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value < high:
        raise Malformed(f"{where}: {value!r} is not an integer in [{low}, {high})")
    return value


def matrix(rows, n_rows, n_cols, where):
    if not isinstance(rows, list) or len(rows) != n_rows:
        raise Malformed(f"{where} must be a list of {n_rows} rows")
    out = []
    for r, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != n_cols:
            raise Malformed(f"{where} row {r} must have {n_cols} entries")
        out.append([number(v, f"{where}[{r}][{c}]") for c, v in enumerate(row)])
    return out


def parse(cert):
    """Validate the structure; return (E, samples, constraints, W or None, multipliers)."""
    if get(cert, "format", str) != FORMAT:
        raise Malformed(f"'format' is {cert['format']!r}, expected {FORMAT!r}")
    status = get(cert, "status", str)
    if status not in ("optimal", "infeasible"):
        raise Malformed(f"'status' is {status!r}, expected 'optimal' or 'infeasible'")
    K = integer(get(cert, "vocab", int), 1, 100_000, "vocab")
    d = integer(get(cert, "dim", int), 1, 10**6 // K + 1, "dim (vocab * dim at most 10**6)")
    if cert.get("embeddings") == "onehot":
        if d != K:
            raise Malformed(f"one-hot embeddings need dim == vocab, got {d} and {K}")
        E = [[Fraction(int(r == c)) for c in range(d)] for r in range(K)]
    else:
        E = matrix(cert.get("embeddings"), K, d, "embeddings")
    samples = []
    for s, item in enumerate(get(cert, "samples", list)):
        if not isinstance(item, list) or len(item) != 2 or not isinstance(item[0], list) or not item[0]:
            raise Malformed(f"sample {s} must be [[tokens...], label] with at least one token")
        tokens = [integer(t, 0, K, f"sample {s} token") for t in item[0]]
        label = integer(item[1], 0, K, f"sample {s} label")
        if label not in tokens:
            raise Malformed(f"sample {s}: label {label} is not in its sequence {tokens}")
        samples.append((tokens, label))
    constraints = []
    for c, item in enumerate(get(cert, "constraints", list)):
        if not isinstance(item, list) or len(item) != 4 or item[3] not in ("eq", "ge"):
            raise Malformed(f"constraint {c} must be [query, high, low, 'eq' or 'ge']")
        constraints.append((*(integer(t, 0, K, f"constraint {c}") for t in item[:3]), item[3]))
    lam = [number(v, f"multiplier {c}") for c, v in enumerate(get(cert, "multipliers", list))]
    if len(lam) != len(constraints):
        raise Malformed(f"{len(lam)} multipliers for {len(constraints)} constraints")
    W = matrix(cert.get("W"), d, d, "W") if status == "optimal" else None
    return E, samples, constraints, W, lam


def graph_constraints(samples):
    """The constraint set of docs/theory.md §3-§4, rebuilt from the samples."""
    edges = {}
    for tokens, label in samples:
        edges.setdefault(tokens[-1], set()).update((label, j) for j in set(tokens) if j != label)
    out = set()
    for k, pairs in edges.items():
        after = {}
        for i, j in pairs:
            after.setdefault(i, set()).add(j)
        for i, j in pairs:
            seen, stack = {j}, [j]
            while stack:
                for nxt in after.get(stack.pop(), ()):
                    if nxt not in seen:
                        seen.add(nxt)
                        stack.append(nxt)
            out.add((k, i, j, "eq" if i in seen else "ge"))
    return out


def combination(E, constraints, lam):
    """sum_c lambda_c (e_i - e_j) e_k^T as a d x d list of Fractions."""
    d = len(E[0])
    out = [[Fraction(0)] * d for _ in range(d)]
    for (k, i, j, _), value in zip(constraints, lam, strict=True):
        cols = [s for s in range(d) if E[k][s]] if value else []  # skip the zero terms: one-hot is sparse
        for r in (r for r in range(d) if cols and E[i][r] != E[j][r]):
            for s in cols:
                out[r][s] += value * (E[i][r] - E[j][r]) * E[k][s]
    return out


def check(cert):
    """The list of (condition, holds, detail) for a certificate given as parsed JSON."""
    E, samples, constraints, W, lam = parse(cert)
    d = len(E[0])
    listed = set(constraints)
    expected = graph_constraints(samples)
    results = [("constraints match the samples", listed == expected and len(listed) == len(constraints),
                f"{len(expected - listed)} missing, {len(listed - expected)} extra, "
                f"{len(constraints) - len(listed)} repeated")]
    ineq = [c for c, con in enumerate(constraints) if con[3] == "ge"]
    signs = [c for c in ineq if lam[c] < 0]
    sign = ("dual sign", not signs, f"negative multipliers on inequalities {signs[:5]}")
    total = combination(E, constraints, lam)
    if W is None:
        results.append(sign)
        nonzero = [(r, s) for r in range(d) for s in range(d) if total[r][s]]
        results.append(("Farkas combination is zero", not nonzero, f"nonzero entries {nonzero[:5]}"))
        mass = sum((lam[c] for c in ineq), Fraction(0))
        results.append(("inequality multipliers sum to 1", mass == 1, f"sum = {mass}"))
        return results
    column = {k: [sum((W[r][s] * E[k][s] for s in range(d) if E[k][s]), Fraction(0)) for r in range(d)]
              for k in {con[0] for con in constraints}}
    margin = [sum(((E[i][r] - E[j][r]) * column[k][r] for r in range(d) if E[i][r] != E[j][r]), Fraction(0))
              for k, i, j, _ in constraints]
    bad = [c for c, con in enumerate(constraints) if (margin[c] != 0 if con[3] == "eq" else margin[c] < 1)]
    results.append(("primal feasibility", not bad, f"violated constraints {bad[:5]}"))
    results.append(sign)
    slack = [c for c in ineq if lam[c] * (margin[c] - 1) != 0]
    results.append(("complementarity", not slack, f"lambda * (margin - 1) != 0 at {slack[:5]}"))
    off = [(r, s) for r in range(d) for s in range(d) if total[r][s] != W[r][s]]
    results.append(("stationarity", not off, f"W differs from sum lambda_c a_c at entries {off[:5]}"))
    return results


def main(argv):
    if len(argv) != 2:
        print("usage: python checkcert.py CERTIFICATE.json", file=sys.stderr)
        return 2
    try:
        with open(argv[1], "rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
        if len(raw) > MAX_BYTES:
            raise Malformed(f"larger than {MAX_BYTES} bytes")
        results = check(json.loads(raw.decode("utf-8")))
    except (OSError, UnicodeDecodeError, ValueError, Malformed) as exc:
        print(f"unreadable certificate {argv[1]}: {exc}", file=sys.stderr)
        return 2
    for name, ok, detail in results:
        print(f"{'PASS' if ok else 'FAIL'}  {name}" + ("" if ok else f": {detail}"))
    accepted = all(ok for _, ok, _ in results)
    print("certificate accepted" if accepted else "certificate REJECTED")
    return 0 if accepted else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
