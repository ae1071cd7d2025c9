"""Verify other implementations against the theory: weights, gradients, solver answers.

>>> from symattn.verify import Check, Verdict
>>> Verdict.of([Check.at_most("finite part", 0.004, 0.0, 0.01)]).value
'pass'
"""

from symattn.verify._report import Check, Diagnosis, Relation, Verdict

__all__ = ["Check", "Diagnosis", "Relation", "Verdict"]
