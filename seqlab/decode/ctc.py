"""CTC decoding: best path, and prefix beam search with an optional symbol n-gram model.

A CTC model gives per-frame log-probabilities ``(B, T, K)`` over K symbols, one of them the blank;
a labelling's probability sums all its paths (Graves et al. 2006, §3; the NumPy oracle is
:mod:`seqlab.reference.ctc`). Three searches over them:

* :func:`ctc_greedy`, best path decoding (Graves et al. 2006, §3.2): the most probable symbol of each
  frame, runs merged, blanks removed. Not always the most probable labelling.
* :func:`ctc_prefix_beam_search`, Hannun et al. (2014, "First-pass large vocabulary continuous speech
  recognition using bi-directional recurrent DNNs", Algorithm 1) in log space. Each prefix ℓ in the
  beam carries p_b(ℓ) and p_nb(ℓ), the probabilities of the frames so far over the paths that collapse
  to ℓ and end in a blank or in ℓ's last symbol. At frame t, for ℓ in the beam and each symbol c:

      c = blank:        p_b(ℓ)    += y^t_b (p_b(ℓ) + p_nb(ℓ))
      c = ℓ's last:     p_nb(ℓ)   += y^t_c p_nb(ℓ);    p_nb(ℓ c) += y^t_c p_b(ℓ)   (a repeat needs a blank)
      otherwise:        p_nb(ℓ c) += y^t_c (p_b(ℓ) + p_nb(ℓ))

  (right-hand sides from frame t - 1), where an extension ℓ c that is itself in the beam adds into its
  entry: one prefix, one entry. Then the beam keeps the ``beam_width`` prefixes of highest score

      score(ℓ) = ln(p_b(ℓ) + p_nb(ℓ)) + α ln P_lm(ℓ) + β |ℓ|

  where P_lm(ℓ) is a model over symbols (:class:`~seqlab.decode.symbol_ngram.SymbolNgramLM`), so it
  scores every extension, not only Hannun's word ends at a space; and the bonus is β per symbol, as
  pyctcdecode's β per word and Deep Speech 2's word insertion bonus, where Hannun writes |W(ℓ)|^β (β
  ln |W| in log space). At the end the n-best adds α ln P_lm(</s> | ℓ),
  as pyctcdecode does. Probabilities live only for the prefixes in the beam: Hannun's term for an
  extension that left the beam earlier is 0 here, as in pyctcdecode. With a beam wide enough to keep
  every prefix, p_b + p_nb is the exact p(ℓ|x). Two prunings follow pyctcdecode's: at each frame only
  the symbols with ln y^t_c ≥ ``token_min_logp`` are tried, and the frame's most probable symbol (the
  blank included: a pruned blank is not tried either); prefixes scored below the best by more than
  ``-beam_prune_logp`` leave the beam, after every frame and after the end's LM term. Unlike
  pyctcdecode, which keeps a prefix that ends in a blank and the same prefix that ends in its symbol
  as two beam entries and merges them only at the end, this beam holds each prefix once with both
  probabilities, as Hannun's algorithm does.

Forced alignment of a known labelling is :mod:`seqlab.decode.ctc_alignment`.

At these sizes (K = 11–30 symbols, T = 50–300 frames, beams of tens) Python and torch ops cost far
more than their arithmetic, so the searches are loops compiled by numba, as ``seqlab.nn.crf_viterbi``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np
import torch

from seqlab.decode.symbol_ngram import SymbolNgramLM
from seqlab.errors import SeqlabError


@dataclass(frozen=True)
class CTCHypothesis:
    """A labelling found by :func:`ctc_prefix_beam_search`, with the scores it was ranked by.

    Example:
        >>> CTCHypothesis(symbols=[3, 1], score=-0.7, log_prob=-0.5, lm_log_prob=-0.4).symbols
        [3, 1]
    """

    symbols: list[int]  # the labelling: symbol ids, no blanks
    score: float  # log_prob + α lm_log_prob + β len(symbols): what the n-best list is ordered by
    log_prob: float  # ln p_ctc over the paths the beam kept: ln p(symbols|x) with a beam wide enough
    lm_log_prob: float  # ln P_lm(symbols </s>); 0.0 without a language model


def _as_array(values, dtype: np.dtype) -> np.ndarray:
    """A contiguous NumPy copy of a tensor (any device, any float type) or of an array-like."""
    if isinstance(values, torch.Tensor):
        values = values.detach().to("cpu", torch.float64 if dtype == np.float64 else torch.int64).numpy()
    return np.ascontiguousarray(values, dtype=dtype)


def _check_batch(log_probs: np.ndarray, lengths: np.ndarray, blank: int) -> None:
    if log_probs.ndim != 3 or log_probs.shape[2] < 2:
        raise SeqlabError(f"log_probs must be (B, T, K) with K >= 2, got {log_probs.shape}")
    if lengths.shape != log_probs.shape[:1] or (lengths < 0).any() or (lengths > log_probs.shape[1]).any():
        raise SeqlabError(f"lengths must be ({log_probs.shape[0]},) in [0, {log_probs.shape[1]}], got {lengths}")
    if not 0 <= blank < log_probs.shape[2]:
        raise SeqlabError(f"blank must lie in [0, {log_probs.shape[2]}), got {blank}")


def ctc_greedy(log_probs, lengths, blank: int = 0) -> list[list[int]]:
    """Best path decoding (Graves et al. 2006, §3.2): each frame's most probable symbol (the first of ties),
    runs merged, blanks removed.

    Shape:
        log_probs (B, T, K) tensor or array, lengths (B,) -> B labellings.
    """
    best = torch.as_tensor(log_probs).detach().argmax(dim=-1).cpu()  # (B, T)
    lengths = torch.as_tensor(lengths).cpu()
    keep = best != blank
    keep[:, 1:] &= best[:, 1:] != best[:, :-1]
    keep &= torch.arange(best.size(1)) < lengths.unsqueeze(1)
    return [row[mask].tolist() for row, mask in zip(best, keep)]


def _language_model_arrays(lm: SymbolNgramLM | None, num_symbols: int, blank: int) -> tuple:
    """The LM as the kernel reads it: (table, columns, base, modulus, start, eos); a table of zeros without one."""
    if lm is None:
        return np.zeros((1, 1)), np.zeros(num_symbols, dtype=np.int64), 1, 1, 0, 0
    table = lm.log_prob_table()  # (contexts, |V| + 1)
    known = {symbol: i for i, symbol in enumerate(lm.symbols)}
    if blank in known or max(lm.symbols) >= num_symbols:
        raise SeqlabError(f"the language model's symbols must be non-blank ids below {num_symbols}, got {lm.symbols}")
    columns = np.array([known.get(k, -1) for k in range(num_symbols)], dtype=np.int64)  # -1: probability 0
    base = len(lm.symbols) + 1
    return table, columns, base, base ** (lm.order - 1), lm.context_index([]), len(lm.symbols)


def ctc_prefix_beam_search(
    log_probs, lengths, *, beam_width: int = 25, nbest: int = 1, blank: int = 0, token_min_logp: float = -5.0,
    beam_prune_logp: float = -math.inf, lm: SymbolNgramLM | None = None, alpha: float = 0.5, beta: float = 0.0,
) -> list[list[CTCHypothesis]]:  # fmt: skip
    """The n best labellings of each utterance by prefix beam search (module docstring).

    Args:
        log_probs: per-frame log-probabilities (log-softmax rows).
        lengths: each utterance's number of frames.
        beam_width: prefixes kept after each frame.
        nbest: hypotheses returned per utterance, at most ``beam_width``.
        blank: the blank's symbol id.
        token_min_logp: a symbol is tried at a frame only if its log-probability is at least this, or it
            is the frame's most probable (pyctcdecode's default, -5); ``-math.inf`` tries every symbol.
        beam_prune_logp: prefixes scored more than ``-beam_prune_logp`` below the best leave the beam
            (pyctcdecode uses -10); ``-math.inf``, the default, keeps ``beam_width``.
        lm: a language model over the symbols; symbols outside its vocabulary are never output.
        alpha: the language model's weight α (unused without ``lm``).
        beta: the bonus β per output symbol.

    Shape:
        log_probs (B, T, K), lengths (B,) -> B lists of at most ``nbest`` hypotheses, best first.
    """
    log_probs, lengths = _as_array(log_probs, np.float64), _as_array(lengths, np.int64)
    _check_batch(log_probs, lengths, blank)
    if not 1 <= nbest <= beam_width:
        raise SeqlabError(f"need 1 <= nbest <= beam_width, got nbest {nbest} and beam_width {beam_width}")
    arrays = _language_model_arrays(lm, log_probs.shape[2], blank)
    options = (int(blank), int(beam_width), int(nbest), float(token_min_logp), float(beam_prune_logp))
    weights = (float(alpha) if lm is not None else 0.0, float(beta))
    symbols, sizes, scores = _beam_kernel(log_probs, lengths, *options, *arrays, *weights)
    return [
        [
            CTCHypothesis(symbols[b, n, : sizes[b, n]].tolist(), *scores[b, n].tolist())
            for n in range(sizes.shape[1])
            if sizes[b, n] >= 0
        ]
        for b in range(len(lengths))
    ]


@numba.njit(cache=True)
def _logadd(a, b):
    """ln(e^a + e^b), exact for -inf."""
    if a == -np.inf:
        return b
    if b == -np.inf:
        return a
    if a > b:
        return a + math.log1p(math.exp(b - a))
    return b + math.log1p(math.exp(a - b))


@numba.njit(cache=True)
def _best_first(values, count, order):
    """Fill ``order`` with the indices of the ``len(order)`` largest of ``values[:count]``, best first (the first
    of equal values first); returns how many. An insertion into a short sorted list: beams are small."""
    size = 0
    for c in range(count):
        if size == len(order) and not values[c] > values[order[size - 1]]:
            continue
        position = size if size < len(order) else size - 1
        size = min(size + 1, len(order))
        while position > 0 and values[order[position - 1]] < values[c]:
            order[position] = order[position - 1]
            position -= 1
        order[position] = c
    return size


@numba.njit(cache=True)
def _beam_kernel(log_probs, lengths, blank, width, nbest, token_min_logp, beam_prune_logp,
                 table, columns, base, modulus, start, eos, alpha, beta):  # fmt: skip
    """Prefix beam search of every utterance; n-best as symbols (B, nbest, T), sizes (B, nbest) (-1: none)
    and scores (B, nbest, 3): score, ln p_ctc, ln P_lm with the end."""
    batch, steps, _ = log_probs.shape
    symbols = np.full((batch, nbest, max(steps, 1)), -1, dtype=np.int64)
    sizes = np.full((batch, nbest), -1, dtype=np.int64)
    scores = np.zeros((batch, nbest, 3))
    lm = (table, columns, base, modulus, start, eos)
    search = (width, token_min_logp, beam_prune_logp, alpha, beta)
    for b in range(batch):
        _search_one(log_probs[b, : lengths[b]], blank, search, lm, (symbols[b], sizes[b], scores[b]))
    return symbols, sizes, scores


@numba.njit(cache=True)
def _search_one(log_probs, blank, search, lm, out):
    """One utterance (T, K): the beam's prefixes are nodes of a trie, each frame extends and prunes the beam.

    The trie is canonical: a prefix has one node whichever beam entry it was made from, and a node outlives
    its stay in the beam, so that a prefix that leaves the beam and comes back is the same node and
    ``_extend`` finds its extensions that stayed in the beam (one prefix, one entry)."""
    width, token_min_logp, beam_prune_logp, alpha, beta = search
    steps, num_symbols = log_probs.shape
    capacity = 1 + steps * width  # each frame adds at most ``width`` nodes
    trie = (
        np.full(capacity, -1, dtype=np.int64),  # parent node
        np.full(capacity, -1, dtype=np.int64),  # last symbol
        np.zeros(capacity, dtype=np.int64),  # length
        np.zeros(capacity),  # ln P_lm of the prefix, without the end
        np.full(capacity, lm[4], dtype=np.int64),  # the LM table's row of its last n - 1 symbols
        np.full(capacity, -1, dtype=np.int64),  # first child node (-1: none)
        np.full(capacity, -1, dtype=np.int64),  # next sibling node: the children of a node are a linked list
    )
    beam = (np.zeros(width, dtype=np.int64), np.full(width, -np.inf), np.full(width, -np.inf))  # node, p_b, p_nb
    beam[1][0] = 0.0  # the empty prefix (node 0), all of its probability on "ends in a blank"
    live, nodes = 1, 1
    room = width * (num_symbols + 1)  # candidates: the beam's prefixes, then their extensions
    # beam entry, added symbol (-1: none), p_b, p_nb, ln P_lm, score
    candidates = (np.zeros(room, dtype=np.int64), np.zeros(room, dtype=np.int64), np.empty(room), np.empty(room),
                  np.empty(room), np.empty(room))  # fmt: skip
    links = (np.full(capacity, -1, dtype=np.int64), np.full((width, num_symbols), -1, dtype=np.int64))
    tried = np.empty(num_symbols, dtype=np.int64)
    for t in range(steps):
        row = log_probs[t]
        best, count = np.argmax(row), 0
        for k in range(num_symbols):
            if row[k] >= token_min_logp or k == best:
                tried[count] = k
                count += 1
        found = _extend(row, tried[:count], blank, live, beam, trie, lm[1], links, candidates)
        live, nodes = _keep_best(found, width, beam_prune_logp, alpha, beta, lm, beam, trie, nodes, candidates)
    _write_nbest(live, beam_prune_logp, alpha, beta, lm, beam, trie, out)


@numba.njit(cache=True)
def _extend(row, tried, blank, live, beam, trie, columns, links, candidates):
    """Hannun's Algorithm 1 for one frame (module docstring); returns the number of candidates.

    ``links`` maps a node to its beam entry and an entry i and a symbol c to the entry of prefix i + c,
    so that an extension that is already in the beam adds into that entry (ℓ c's parent is ℓ's node: the
    trie is canonical)."""
    node, p_b, p_nb = beam
    parent, last = trie[0], trie[1]
    entry_of, child = links
    source, added, new_b, new_nb = candidates[0], candidates[1], candidates[2], candidates[3]
    for i in range(live):
        entry_of[node[i]] = i
        source[i], added[i], new_b[i], new_nb[i] = i, -1, -np.inf, -np.inf
    for j in range(live):
        if parent[node[j]] >= 0 and entry_of[parent[node[j]]] >= 0:
            child[entry_of[parent[node[j]]], last[node[j]]] = j
    found = live
    for i in range(live):
        total = _logadd(p_b[i], p_nb[i])
        for k in tried:
            if k == blank:
                new_b[i] = _logadd(new_b[i], row[k] + total)
                continue
            if k == last[node[i]]:  # a repeat: the same prefix, or a new label after a blank
                new_nb[i] = _logadd(new_nb[i], row[k] + p_nb[i])
                extension = row[k] + p_b[i]
            else:
                extension = row[k] + total
            if extension == -np.inf or columns[k] < 0:
                continue
            if child[i, k] >= 0:
                new_nb[child[i, k]] = _logadd(new_nb[child[i, k]], extension)
            else:
                source[found], added[found], new_b[found], new_nb[found] = i, k, -np.inf, extension
                found += 1
    for i in range(live):
        entry_of[node[i]] = -1
        for k in range(child.shape[1]):
            child[i, k] = -1
    return found


@numba.njit(cache=True)
def _keep_best(found, width, beam_prune_logp, alpha, beta, lm, beam, trie, nodes, candidates):
    """Score the candidates, keep the best ``width`` within ``-beam_prune_logp`` of the best as the new
    beam (for each kept extension its node, made if the trie has none); returns the beam's size and the trie's."""
    table, columns, base, modulus = lm[0], lm[1], lm[2], lm[3]
    parent, last, size, lm_total, context, first_child, next_sibling = trie
    source, added, new_b, new_nb, cand_lm, score = candidates
    for c in range(found):
        node = beam[0][source[c]]
        cand_lm[c], length = lm_total[node], size[node]
        if added[c] >= 0:
            cand_lm[c] += table[context[node], columns[added[c]]]
            length += 1
        score[c] = _logadd(new_b[c], new_nb[c]) + alpha * cand_lm[c] + beta * length
    order = np.empty(width, dtype=np.int64)
    ranked = _best_first(score, found, order)
    kept_node, kept_b, kept_nb, kept = np.empty(width, dtype=np.int64), np.empty(width), np.empty(width), 0
    for c in order[:ranked]:
        if score[c] == -np.inf or score[c] < score[order[0]] + beam_prune_logp:
            break
        node = beam[0][source[c]]
        if added[c] >= 0:
            child = first_child[node]
            while child >= 0 and last[child] != added[c]:
                child = next_sibling[child]
            if child < 0:  # a new prefix: a new node, the first of its parent's children
                child, nodes = nodes, nodes + 1
                parent[child], last[child], size[child], lm_total[child] = node, added[c], size[node] + 1, cand_lm[c]
                context[child] = (context[node] * base + columns[added[c]]) % modulus
                next_sibling[child], first_child[node] = first_child[node], child
            node = child
        kept_node[kept], kept_b[kept], kept_nb[kept] = node, new_b[c], new_nb[c]
        kept += 1
    for i in range(kept):  # loops, not slice assignments: numba compiles those slowly
        beam[0][i], beam[1][i], beam[2][i] = kept_node[i], kept_b[i], kept_nb[i]
    return kept, nodes


@numba.njit(cache=True)
def _write_nbest(live, beam_prune_logp, alpha, beta, lm, beam, trie, out):
    """Add the end's LM term, rank, and write the n best: symbols (nbest, T), sizes (nbest,), scores (nbest, 3)."""
    table, eos = lm[0], lm[5]
    parent, last, size, lm_total, context = trie[:5]
    node, p_b, p_nb = beam
    symbols, sizes, scores = out
    ctc, with_end, final = np.empty(live), np.empty(live), np.empty(live)
    for i in range(live):
        ctc[i] = _logadd(p_b[i], p_nb[i])
        with_end[i] = lm_total[node[i]] + table[context[node[i]], eos]
        final[i] = ctc[i] + alpha * with_end[i] + beta * size[node[i]]
    order = np.empty(len(sizes), dtype=np.int64)
    for n in range(_best_first(final, live, order)):
        if final[order[n]] < final[order[0]] + beam_prune_logp:
            break
        i = order[n]
        sizes[n] = size[node[i]]
        scores[n, 0], scores[n, 1], scores[n, 2] = final[i], ctc[i], with_end[i]
        at = node[i]
        while at > 0:
            symbols[n, size[at] - 1] = last[at]
            at = parent[at]
