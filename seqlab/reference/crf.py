"""A linear-chain CRF over K tags (Lample et al. 2016, §2.2): path score, forward-backward, Viterbi, top-k.

One sentence at a time, in float64 and in log space, with explicit loops over time: the oracle of
:class:`seqlab.nn.LinearChainCRF`. Sentences of different lengths are separate calls, each with its
own T (T = 1 included).

A sentence X of T words comes with emission scores P (T, K), the network's score of every tag at
every word (Lample's P_{i, y_i}). The parameters live in a plain dict under the torch module's
names: ``transitions`` A (K, K), A[i, j] the score of tag j following tag i [from, to];
``start_transitions`` (K,) and ``end_transitions`` (K,), the scores of the moves out of Lample's
start tag and into his end tag (the extra two rows and columns of his (K+2)×(K+2) matrix A).
The score of a tag path y = (y_0, …, y_{T-1}) is Lample et al.'s s(X, y) (2016, §2.2):

    s(X, y) = start[y_0] + Σ_{t=0}^{T-1} P[t, y_t] + Σ_{t=1}^{T-1} A[y_{t-1}, y_t] + end[y_{T-1}]

and the CRF's distribution over the K^T paths and its training loss (same section):

    p(y | X) = exp s(X, y) / Z,    log Z = logadd_ỹ s(X, ỹ),    NLL = -log p(y | X) = log Z - s(X, y)

The forward algorithm (Rabiner 1989, §III.A, here in log space) sums the paths in O(T K²):

    log α_0(j) = start[j] + P[0, j]
    log α_t(j) = P[t, j] + logadd_i (log α_{t-1}(i) + A[i, j])
    log Z      = logadd_j (log α_{T-1}(j) + end[j])

and the backward algorithm sums what follows each tag:

    log β_{T-1}(i) = end[i]
    log β_t(i)     = logadd_j (A[i, j] + P[t+1, j] + log β_{t+1}(j))

which gives the marginals

    p(y_t = j)               = exp(log α_t(j) + log β_t(j) - log Z)
    p(y_{t-1} = i, y_t = j)  = exp(log α_{t-1}(i) + A[i, j] + P[t, j] + log β_t(j) - log Z)

and the gradient of the NLL: each score's expected count under p minus its count in y,

    ∂NLL/∂P[t, j]  = p(y_t = j) - [y_t = j]
    ∂NLL/∂A[i, j]  = Σ_{t=1}^{T-1} (p(y_{t-1} = i, y_t = j) - [y_{t-1} = i and y_t = j])
    ∂NLL/∂start[j] = p(y_0 = j) - [y_0 = j]          ∂NLL/∂end[j] = p(y_{T-1} = j) - [y_{T-1} = j]

Viterbi (1967) is the forward algorithm with max for logadd and a back-pointer per (t, j); it
finds Lample's y* = argmax_ỹ s(X, ỹ). The k best paths come from the list Viterbi algorithm
(Seshadri and Sundberg 1994): every (t, j) keeps the k best scores of the paths ending in tag j
at word t, each with a pointer to the (tag, rank) at t - 1 that it extends. It is exact: the
prefix of one of the k best paths ending in (t, j) is one of the k best ending in (t - 1, y_{t-1}),
or k better prefixes would make k better paths.

A disallowed move (O → I-PER under BIO) is a score of -inf in A, start or end: a path that makes
it has probability 0 and is never decoded, and every sum here treats -inf exactly (logadd of
nothing but -inf is -inf, not NaN). A sentence with no allowed path has no distribution: its log Z
is -inf and its marginals are undefined.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> params = init_crf_params(3, rng)
    >>> emissions, tags = rng.normal(size=(4, 3)), [0, 2, 2, 1]
    >>> grads = crf_nll_backward(params, emissions, tags)
    >>> best, best_score = crf_viterbi(params, emissions)
    >>> crf_nll(params, emissions, tags) > 0, len(best), sorted(grads)
    (True, 4, ['emissions', 'end_transitions', 'start_transitions', 'transitions'])
    >>> [path for path, _ in crf_viterbi_topk(params, emissions, 2)][0] == best
    True
"""

from __future__ import annotations

import numpy as np

from seqlab.errors import SeqlabError

CRF_PARAM_NAMES = ("transitions", "start_transitions", "end_transitions")


def init_crf_params(num_tags: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Parameters drawn like the torch module's (and pytorch-crf's): every entry ~ U(-0.1, 0.1).

    Returns:
        ``transitions`` (K, K), ``start_transitions`` (K,), ``end_transitions`` (K,), float64.
    """
    shapes = {"transitions": (num_tags, num_tags), "start_transitions": (num_tags,), "end_transitions": (num_tags,)}
    return {name: rng.uniform(-0.1, 0.1, size=shape) for name, shape in shapes.items()}


def logadd(scores: np.ndarray, axis: int) -> np.ndarray:
    """log Σ exp(scores) along ``axis``: -inf where every score is -inf, never NaN.

    Shape:
        scores (..., N, ...) -> the same without ``axis``.
    """
    top = np.max(scores, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)  # all -inf: exp(-inf - 0) = 0, and log 0 = -inf below
    with np.errstate(divide="ignore"):
        total = np.log(np.sum(np.exp(scores - top), axis=axis, keepdims=True)) + top
    return np.squeeze(total, axis=axis)


def _check_sentence(params: dict[str, np.ndarray], emissions: np.ndarray, tags=None) -> int:
    """One-line errors for a sentence of the wrong shape or tags out of range; returns K."""
    num_tags = params["transitions"].shape[0]
    if emissions.ndim != 2 or emissions.shape[0] < 1 or emissions.shape[1] != num_tags:
        raise SeqlabError(f"emissions must be (T, {num_tags}) with T >= 1, got {emissions.shape}")
    if tags is not None:
        tags = np.asarray(tags)
        if tags.shape != emissions.shape[:1]:
            raise SeqlabError(f"tags must be ({emissions.shape[0]},), got {tags.shape}")
        if tags.min() < 0 or tags.max() >= num_tags:
            raise SeqlabError(f"tags must lie in [0, {num_tags}), got {tags.min()}..{tags.max()}")
    return num_tags


def crf_path_score(params: dict[str, np.ndarray], emissions: np.ndarray, tags) -> float:
    """s(X, y) of Lample et al. (2016, §2.2): start, emissions, transitions and end along the path.

    Shape:
        emissions (T, K), tags (T,) of ints in [0, K).
    """
    _check_sentence(params, emissions, tags)
    tags = [int(tag) for tag in tags]
    score = params["start_transitions"][tags[0]] + emissions[0, tags[0]]
    for t in range(1, len(tags)):
        score += params["transitions"][tags[t - 1], tags[t]] + emissions[t, tags[t]]
    return float(score + params["end_transitions"][tags[-1]])


def crf_forward_algorithm(params: dict[str, np.ndarray], emissions: np.ndarray) -> tuple[np.ndarray, float]:
    """log α_t(j), the logadd of the scores of all paths through words 0..t that end in tag j, and log Z.

    Shape:
        emissions (T, K) -> log_alpha (T, K).

    Returns:
        ``(log_alpha, log_z)``.
    """
    _check_sentence(params, emissions)
    log_alpha = np.empty_like(emissions)
    log_alpha[0] = params["start_transitions"] + emissions[0]
    for t in range(1, len(emissions)):
        # [i, j]: the paths ending in i at t - 1, then the move i -> j
        log_alpha[t] = emissions[t] + logadd(log_alpha[t - 1][:, None] + params["transitions"], axis=0)
    return log_alpha, float(logadd(log_alpha[-1] + params["end_transitions"], axis=0))


def crf_backward_algorithm(params: dict[str, np.ndarray], emissions: np.ndarray) -> np.ndarray:
    """log β_t(i), the logadd of the scores of everything after word t given y_t = i (end included).

    Shape:
        emissions (T, K) -> log_beta (T, K).
    """
    _check_sentence(params, emissions)
    log_beta = np.empty_like(emissions)
    log_beta[-1] = params["end_transitions"]
    for t in range(len(emissions) - 2, -1, -1):
        # [i, j]: the move i -> j, the emission of j at t + 1, then everything after it
        log_beta[t] = logadd(params["transitions"] + (emissions[t + 1] + log_beta[t + 1])[None, :], axis=1)
    return log_beta


def crf_marginals(params: dict[str, np.ndarray], emissions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """p(y_t = j) and p(y_{t-1} = i, y_t = j) by the forward-backward algorithm.

    Shape:
        emissions (T, K) -> unary (T, K), pairwise (T - 1, K, K) [t - 1 for the move into word t, from, to].
    """
    log_alpha, log_z = crf_forward_algorithm(params, emissions)
    log_beta = crf_backward_algorithm(params, emissions)
    unary = np.exp(log_alpha + log_beta - log_z)
    pairwise = np.exp(
        log_alpha[:-1, :, None] + params["transitions"][None, :, :] + (emissions[1:] + log_beta[1:])[:, None, :] - log_z
    )
    return unary, pairwise


def crf_nll(params: dict[str, np.ndarray], emissions: np.ndarray, tags) -> float:
    """-log p(y | X) = log Z - s(X, y), in nats; inf when y makes a disallowed (-inf) move.

    Shape:
        emissions (T, K), tags (T,).
    """
    _, log_z = crf_forward_algorithm(params, emissions)
    return log_z - crf_path_score(params, emissions, tags)


def crf_nll_backward(params: dict[str, np.ndarray], emissions: np.ndarray, tags) -> dict[str, np.ndarray]:
    """∂NLL/∂ of emissions and every parameter: expected counts minus the counts along ``tags``.

    Shape:
        emissions (T, K), tags (T,).

    Returns:
        Gradients keyed ``emissions`` (T, K) and every name in ``CRF_PARAM_NAMES``.
    """
    _check_sentence(params, emissions, tags)
    unary, pairwise = crf_marginals(params, emissions)
    grads = {
        "emissions": unary.copy(),
        "transitions": pairwise.sum(axis=0),
        "start_transitions": unary[0].copy(),
        "end_transitions": unary[-1].copy(),
    }
    tags = [int(tag) for tag in tags]
    for t, tag in enumerate(tags):
        grads["emissions"][t, tag] -= 1.0
        if t > 0:
            grads["transitions"][tags[t - 1], tag] -= 1.0
    grads["start_transitions"][tags[0]] -= 1.0
    grads["end_transitions"][tags[-1]] -= 1.0
    return grads


def crf_viterbi(params: dict[str, np.ndarray], emissions: np.ndarray) -> tuple[list[int], float]:
    """The best path y* = argmax_ỹ s(X, ỹ) (Lample et al. 2016, §2.2) by the Viterbi algorithm.

    Shape:
        emissions (T, K) -> a path of T tags.

    Returns:
        ``(tags, score)``: ``([], -inf)`` when no path is allowed.
    """
    _check_sentence(params, emissions)
    delta = params["start_transitions"] + emissions[0]  # best score of a path ending in each tag: (K,)
    pointers = []  # pointers[t - 1][j]: the tag before j on the best path ending in j at t
    for t in range(1, len(emissions)):
        candidates = delta[:, None] + params["transitions"]  # [i, j]: (K, K)
        pointers.append(candidates.argmax(axis=0))
        delta = candidates.max(axis=0) + emissions[t]
    final = delta + params["end_transitions"]
    path = [int(final.argmax())]
    if final[path[0]] == -np.inf:
        return [], -np.inf
    for pointer in reversed(pointers):
        path.append(int(pointer[path[-1]]))
    return path[::-1], float(final[path[0]])


def crf_viterbi_topk(params: dict[str, np.ndarray], emissions: np.ndarray, k: int) -> list[tuple[list[int], float]]:
    """The k best paths and their scores, best first, by the list Viterbi algorithm (module docstring).

    Shape:
        emissions (T, K) -> k paths of T tags.

    Returns:
        ``[(tags, score), …]``: min(k, the number of allowed paths) of them, in order of score.
    """
    _check_sentence(params, emissions)
    if k < 1:
        raise SeqlabError(f"k must be at least 1, got {k}")
    num_tags = emissions.shape[1]
    # lists[t][j]: up to k (score, previous tag, its rank) of the paths ending in tag j at word t, best first
    first = params["start_transitions"] + emissions[0]
    lists = [[[(first[j], -1, -1)] if first[j] > -np.inf else [] for j in range(num_tags)]]
    for t in range(1, len(emissions)):
        step = []
        for j in range(num_tags):
            candidates = [
                (score + params["transitions"][i, j] + emissions[t, j], i, rank)
                for i in range(num_tags)
                for rank, (score, _, _) in enumerate(lists[-1][i])
            ]
            candidates = [candidate for candidate in candidates if candidate[0] > -np.inf]
            step.append(sorted(candidates, key=lambda candidate: -candidate[0])[:k])
        lists.append(step)
    finals = [
        (score + params["end_transitions"][j], j, rank)
        for j in range(num_tags)
        for rank, (score, _, _) in enumerate(lists[-1][j])
    ]
    finals = sorted((final for final in finals if final[0] > -np.inf), key=lambda final: -final[0])[:k]
    paths = []
    for score, tag, rank in finals:
        path = [tag]
        for t in range(len(emissions) - 1, 0, -1):
            _, tag, rank = lists[t][tag][rank]
            path.append(tag)
        paths.append((path[::-1], float(score)))
    return paths
