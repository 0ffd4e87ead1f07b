"""What a model offers to be decoded one token at a time: ``step`` and ``reorder`` (fairseq's ``reorder_state``)."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from torch import Tensor


@runtime_checkable
class IncrementalDecoder(Protocol):
    """A decoder that extends N output prefixes by one token, carrying an opaque state between steps.

    The search owns the tokens; the model owns the state. A search starts from a state for B
    source sentences (rows ``0..B-1``, e.g. the encoder's outputs and the decoder's first hidden
    state), feeds ``bos`` to every row, then feeds each row the token chosen for it. Rows are
    added, dropped and permuted only through :meth:`reorder`, so the state may hold anything
    that has a row per hypothesis: hidden states, encoder outputs and their padding mask, the
    attention weights collected so far for inspection (tensors, tuples, dicts, ...).

    Example:
        >>> import torch
        >>> class Uniform:
        ...     def step(self, tokens, state):
        ...         return torch.full((len(tokens), 4), -1.3862943611198906), state
        ...     def reorder(self, state, order):
        ...         return state.index_select(0, order)
        >>> isinstance(Uniform(), IncrementalDecoder)
        True
    """

    def step(self, tokens: Tensor, state: Any) -> tuple[Tensor, Any]:
        """Read the previous output token of each row; return the next token's log-probabilities.

        Args:
            tokens: the previous output token of each of the N rows (``bos`` at the first step).
            state: the state returned by the previous call (or by :meth:`reorder`).

        Shape:
            - tokens: ``(N,)`` long
            - output: ``(N, V)`` float, log-probabilities (each row's ``exp`` sums to 1)

        Returns:
            The log-probabilities of the next token of each row, and the new state. The search
            writes into the log-probabilities (``-inf`` at banned tokens, as fairseq's generator
            bans padding in place), so they must be a tensor of their own, not a view the model
            keeps or an ``expand``.
        """
        ...

    def reorder(self, state: Any, order: Tensor) -> Any:
        """The state of the rows ``order``, in that order.

        ``order`` may repeat rows and may be longer or shorter than N: the search expands B
        sources to B*K beams (each row repeated K times), permutes beams after each step and
        drops the rows of finished sentences.

        Args:
            state: a state with N rows.
            order: the rows to keep, by index into the N rows.

        Shape:
            - order: ``(M,)`` long, values in ``[0, N)``
        """
        ...
