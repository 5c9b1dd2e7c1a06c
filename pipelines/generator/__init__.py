"""Synthetic multi-system customer, account and contract data with ground truth.

The corruption vocabularies here (nicknames, legal forms, street abbreviations) belong to the
generator alone: `matching` must never import this package, or its scores would be flattered.
"""

from .rates import RateError, Rates, with_overrides
from .run import generate

__all__ = ["generate", "Rates", "RateError", "with_overrides"]
