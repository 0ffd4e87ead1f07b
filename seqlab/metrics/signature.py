"""Scores printed as sacrebleu prints them, with the signature that says how they were computed.

The signature has sacrebleu 2.6.0's fields in sacrebleu's order (``nrefs``, the bootstrap's ``bs`` and
``seed``, the metric's own fields, ``version`` last), so it reads and parses like sacrebleu's. ``version``
is honest: it names this implementation, ``seqlab-<version>`` (e.g. ``version:seqlab-0.1.0``), not
sacrebleu's release; the scores are tested equal to sacrebleu 2.6.0's (``SACREBLEU_VERSION``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

SACREBLEU_VERSION = "2.6.0"  # the release whose scores, signatures and output formats these reproduce


def seqlab_version() -> str:
    """The ``version`` field of every signature: ``seqlab-`` and the package's version."""
    from seqlab import __version__

    return f"seqlab-{__version__}"


def format_signature(
    nrefs: int | str, fields: dict[str, object], *, n_bootstrap: int | None = None, seed: int | None = None
) -> str:
    """``nrefs:1|case:mixed|...|version:seqlab-0.1.0``, in sacrebleu's order.

    Args:
        nrefs: references per segment, or ``"var"`` when it varies.
        fields: the metric's own fields, in order (``case``, ``eff``, ``tok``, ``smooth`` for BLEU).
        n_bootstrap: the resamples of a bootstrap test, if one was run.
        seed: the seed of that test.
    """
    pairs = {"nrefs": nrefs, "bs": n_bootstrap, "seed": seed, **fields, "version": seqlab_version()}
    return "|".join(f"{key}:{value}" for key, value in pairs.items() if value is not None)


@dataclass
class Score:
    """A metric's value with its name, the detail sacrebleu prints after it, and its signature.

    Example:
        >>> Score("chrF2", 61.04, signature="nrefs:1").format(width=1)
        'chrF2|nrefs:1 = 61.0'
    """

    name: str  # "BLEU", "chrF2", "chrF2++"
    score: float  # in [0, 100]
    signature: str = ""  # how the score was computed
    verbose: str = field(default="", repr=False)  # BLEU's precisions, BP and lengths; empty for chrF

    def format(self, width: int = 2, *, signature: bool = True, score_only: bool = False) -> str:
        """The line sacrebleu prints: ``BLEU|<signature> = 34.3 65.1/40.2/26.9/17.8 (BP = ...)``.

        Args:
            width: decimals of the score.
            signature: whether to name the signature after the metric (sacrebleu's command line does).
            score_only: only the number.
        """
        number = f"{self.score:.{width}f}"
        if score_only:
            return number
        name = f"{self.name}|{self.signature}" if signature and self.signature else self.name
        return f"{name} = {number} {self.verbose}" if self.verbose else f"{name} = {number}"

    def to_dict(self, width: int = 2) -> dict[str, object]:
        """sacrebleu's JSON object: ``name``, ``score`` (rounded), ``signature``, ``verbose_score``, its fields."""
        result: dict[str, object] = {"name": self.name, "score": float(f"{self.score:.{width}f}")}
        result["signature"] = self.signature
        if self.verbose:
            result["verbose_score"] = self.verbose
        for pair in filter(None, self.signature.split("|")):
            key, value = pair.split(":", 1)
            result[key] = value
        return result

    def to_json(self, width: int = 2) -> str:
        """``to_dict`` as sacrebleu writes it (one-space indent, non-ASCII kept)."""
        return json.dumps(self.to_dict(width), indent=1, ensure_ascii=False)

    def __str__(self) -> str:
        return self.format(signature=False)
