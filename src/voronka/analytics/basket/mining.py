"""Frequent itemsets by vectorised Eclat on projected databases, and association rules.

The miner works on integer-coded baskets (``transaction`` and ``item`` arrays, one row per
item of a basket). It never builds a per-item Python tree:

1. item supports by ``bincount``; items below the minimum count are dropped and the rest
   recoded in ascending order of support (Borgelt's order: small projected databases first);
2. all 2-itemset counts at once as the sparse product ``XᵀX`` of the basket × item matrix;
3. for every item ``a`` with two or more frequent partners, the projected database of ``a``
   (baskets holding ``a`` × its frequent partners after it) becomes a dense 0/1 matrix whose
   identical rows are merged with counts; the counts of all its pairs come from one
   weighted matrix product ``Dᵀ diag(w) D``; each pair with frequent extensions recurses on
   its own, smaller projected database (depth first, so memory stays bounded).

Rules follow the arules definition: an itemset ``I`` with a non-empty antecedent ``A`` and
consequent ``C = I ∖ A`` (one item by default), ``confidence = supp(I) / supp(A)``,
``lift = confidence / supp(C)``, ``leverage = supp(I) − supp(A)·supp(C)``,
``conviction = (1 − supp(C)) / (1 − confidence)`` (infinite when confidence is 1).

References
----------
Agrawal, R., Imieliński, T., Swami, A. (1993). Mining association rules between sets of items
in large databases. *SIGMOD '93*, 207–216.
Zaki, M. J. (2000). Scalable algorithms for association mining. *IEEE TKDE* 12(3), 372–390
(Eclat: vertical layout, depth-first search over prefixes).
Han, J., Pei, J., Yin, Y. (2000). Mining frequent patterns without candidate generation.
*SIGMOD '00*, 1–12 (projected databases).
Hahsler, M., Grün, B., Hornik, K. (2005). arules — a computational environment for mining
association rules and frequent item sets. *Journal of Statistical Software* 14(15).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from scipy import sparse

#: Projected databases with fewer rows than this skip the merge of identical rows (the
#: sort costs more than it saves on small matrices; chosen on the Groceries data).
DEDUPLICATE_FROM_ROWS = 256


@dataclass(frozen=True)
class FrequentItemsets:
    """Frequent itemsets by length: ``items[k]`` is an (m, k) array of item codes (each row
    ascending) and ``counts[k]`` the number of baskets holding each; ``baskets`` is N."""

    items: dict[int, np.ndarray]
    counts: dict[int, np.ndarray]
    baskets: int

    def __len__(self) -> int:
        return sum(len(c) for c in self.counts.values())

    def count_of(self, rows: np.ndarray) -> np.ndarray:
        """Counts of the itemsets in ``rows`` (m, k), each row ascending; all must be known."""
        k = rows.shape[1]
        if k == 0:
            return np.full(len(rows), self.baskets, dtype=np.int64)
        known = _row_keys(self.items[k])
        order = np.argsort(known, kind="stable")
        position = order[np.searchsorted(known[order], _row_keys(rows))]
        return self.counts[k][position]


@dataclass(frozen=True)
class Rules:
    """Association rules as parallel arrays; antecedents/consequents are rows of item codes
    (padded with −1) so that rules of different lengths share one table."""

    antecedent: np.ndarray
    consequent: np.ndarray
    count: np.ndarray
    support: np.ndarray
    confidence: np.ndarray
    lift: np.ndarray
    leverage: np.ndarray
    conviction: np.ndarray

    def __len__(self) -> int:
        return len(self.count)


def mine_itemsets(transaction: np.ndarray, item: np.ndarray, *, min_count: int,
                  max_length: int | None = None,
                  weight: np.ndarray | None = None) -> FrequentItemsets:
    """Find every itemset held by at least ``min_count`` baskets.

    Parameters
    ----------
    transaction, item
        Non-negative integer codes, one pair per item of a basket (duplicates are ignored).
    min_count
        Minimum number of baskets (absolute support), at least 1.
    max_length
        Longest itemset wanted (``None``: no limit).
    weight
        How many identical baskets each basket stands for (whole numbers, default 1), so a
        caller can pass baskets already merged with their counts; read on a basket's first
        pair.
    """
    if min_count < 1:
        raise ValueError("the minimum support count must be at least 1")
    limit = max_length if max_length is not None else np.iinfo(np.int32).max
    matrix, weights = _basket_matrix(transaction, item, weight)
    n_baskets = int(weights.sum())
    out = _Collector()
    if limit < 1 or n_baskets == 0:
        return out.result(n_baskets)
    per_pair = np.repeat(weights, np.diff(matrix.indptr))
    support = np.rint(np.bincount(matrix.indices, weights=per_pair,
                                  minlength=matrix.shape[1])).astype(np.int64)
    frequent = np.flatnonzero(support >= min_count)
    # ascending support (then code): projected databases of rare items are small
    frequent = frequent[np.lexsort((frequent, support[frequent]))]
    out.add(frequent[:, None], support[frequent])
    if limit < 2 or len(frequent) < 2:
        return out.result(n_baskets)
    recoded, kept = _recode(matrix, frequent)
    _mine_from_pairs(recoded, weights[kept], frequent, min_count, limit, out)
    return out.result(n_baskets)


def _basket_matrix(transaction: np.ndarray, item: np.ndarray,
                   weight: np.ndarray | None) -> tuple[sparse.csr_matrix, np.ndarray]:
    """The 0/1 basket × item matrix (duplicate pairs count once) and each row's weight."""
    transaction = np.asarray(transaction, dtype=np.int64)
    item = np.asarray(item, dtype=np.int64)
    weight = np.ones(len(item)) if weight is None else np.asarray(weight, dtype=np.float64)
    if len(item) == 0:
        return sparse.csr_matrix((0, 0), dtype=np.int32), np.zeros(0)
    if item.min() < 0:
        raise ValueError("item codes must be non-negative")
    if weight.min() < 1 or np.any(weight != np.rint(weight)):
        raise ValueError("basket weights must be whole numbers of at least 1")
    if np.any(transaction[1:] < transaction[:-1]):
        order = np.argsort(transaction, kind="stable")
        transaction, item, weight = transaction[order], item[order], weight[order]
    starts = np.concatenate([[True], transaction[1:] != transaction[:-1]])
    row = np.cumsum(starts) - 1
    matrix = sparse.csr_matrix((np.ones(len(item), dtype=np.int32), (row, item)),
                               shape=(int(row[-1]) + 1, int(item.max()) + 1))
    matrix.sum_duplicates()
    matrix.data[:] = 1
    return matrix, weight[starts]


def _recode(matrix: sparse.csr_matrix,
            frequent: np.ndarray) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Keep the ``frequent`` columns, renumbered 0.. in that order; drop emptied rows.

    Returns the matrix and the indices of the rows kept.
    """
    rank = np.full(matrix.shape[1], -1, dtype=np.int64)
    rank[frequent] = np.arange(len(frequent))
    new = rank[matrix.indices]
    keep = new >= 0
    row = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))[keep]
    per_row = np.bincount(row, minlength=matrix.shape[0])
    kept = np.flatnonzero(per_row)
    indptr = np.concatenate([[0], np.cumsum(per_row[kept])])
    recoded = sparse.csr_matrix((np.ones(int(keep.sum()), dtype=np.int32), new[keep], indptr),
                                shape=(len(kept), len(frequent)))
    return recoded, kept


def _mine_from_pairs(matrix: sparse.csr_matrix, weights: np.ndarray, code: np.ndarray,
                     min_count: int, limit: int, out: _Collector) -> None:
    """Emit frequent pairs from ``XᵀWX`` and recurse into each item's projected database."""
    if np.all(weights == 1):
        weighted = matrix
    else:
        per_pair = np.repeat(weights.astype(np.int64), np.diff(matrix.indptr))
        weighted = sparse.csr_matrix((per_pair, matrix.indices, matrix.indptr),
                                     shape=matrix.shape)
    pairs = sparse.triu(matrix.T @ weighted, k=1).tocsr()
    pairs.data[pairs.data < min_count] = 0
    pairs.eliminate_zeros()
    first = np.repeat(np.arange(pairs.shape[0]), np.diff(pairs.indptr))
    out.add(code[np.column_stack([first, pairs.indices])], pairs.data.astype(np.int64))
    if limit < 3:
        return
    by_item = matrix.tocsc()
    for a in np.flatnonzero(np.diff(pairs.indptr) >= 2):
        partners = pairs.indices[pairs.indptr[a]:pairs.indptr[a + 1]]
        holding = by_item.indices[by_item.indptr[a]:by_item.indptr[a + 1]]
        dense = matrix[holding][:, partners].toarray().astype(bool)
        _mine_projected(dense, weights[holding], code[[a]], code[partners], min_count, limit, out)


def _mine_projected(dense: np.ndarray, weights: np.ndarray, prefix: np.ndarray,
                    columns: np.ndarray, min_count: int, limit: int, out: _Collector) -> None:
    """Emit ``prefix ∪ {j, k}`` for frequent column pairs of a projected database; recurse.

    ``dense`` holds the baskets containing ``prefix`` (rows, with multiplicities
    ``weights``) restricted to the items ``columns`` each frequent together with the prefix.
    """
    if len(dense) >= DEDUPLICATE_FROM_ROWS:
        dense, weights = _merge_identical_rows(dense, weights)
    values = dense.astype(np.float64)
    pair_counts = np.rint((values * weights[:, None]).T @ values).astype(np.int64)
    j, k = np.nonzero(np.triu(pair_counts >= min_count, k=1))
    if len(j) == 0:
        return
    found = np.column_stack([np.broadcast_to(prefix, (len(j), len(prefix))), columns[j],
                             columns[k]])
    out.add(found, pair_counts[j, k])
    if len(prefix) + 3 > limit:
        return
    starts = np.searchsorted(j, np.arange(len(columns) + 1))
    for column in np.flatnonzero(np.diff(starts) >= 2):
        partners = k[starts[column]:starts[column + 1]]
        holding = dense[:, column]
        _mine_projected(dense[holding][:, partners], weights[holding],
                        np.append(prefix, columns[column]), columns[partners], min_count,
                        limit, out)


def _merge_identical_rows(dense: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    packed = np.packbits(dense, axis=1)
    keys = np.ascontiguousarray(packed).view(np.dtype((np.void, packed.shape[1]))).ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    return dense[first], np.bincount(inverse.ravel(), weights=weights)


def _row_keys(rows: np.ndarray) -> np.ndarray:
    """One comparable key per row (its bytes), for sorting and searching rows."""
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    return rows.view(np.dtype((np.void, 8 * rows.shape[1]))).ravel()


class _Collector:
    """Itemsets found, kept as arrays per length until the search ends."""

    def __init__(self) -> None:
        self.items: dict[int, list[np.ndarray]] = {}
        self.counts: dict[int, list[np.ndarray]] = {}

    def add(self, items: np.ndarray, counts: np.ndarray) -> None:
        if len(counts) == 0:
            return
        k = items.shape[1]
        # rows ascending by item code, whatever the mining order was
        self.items.setdefault(k, []).append(np.sort(items, axis=1))
        self.counts.setdefault(k, []).append(np.asarray(counts, dtype=np.int64))

    def result(self, baskets: int) -> FrequentItemsets:
        items = {k: np.concatenate(v) for k, v in self.items.items()}
        counts = {k: np.concatenate(v) for k, v in self.counts.items()}
        return FrequentItemsets(items=items, counts=counts, baskets=baskets)


def association_rules(itemsets: FrequentItemsets, *, min_confidence: float = 0.0,
                      min_lift: float = 0.0, max_consequent: int = 1) -> Rules:
    """Rules ``A ⇒ C`` from every frequent itemset of two or more items.

    Parameters
    ----------
    min_confidence, min_lift
        Rules below either threshold are dropped.
    max_consequent
        Largest consequent; 1 (the arules and pyfim default) gives one item on the right.
    """
    n = itemsets.baskets
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    width = max(itemsets.items, default=1)
    for k, rows in sorted(itemsets.items.items()):
        if k < 2:
            continue
        whole = itemsets.counts[k]
        for size in range(1, min(max_consequent, k - 1) + 1):
            for chosen in combinations(range(k), size):
                rest = [p for p in range(k) if p not in chosen]
                antecedent, consequent = rows[:, rest], rows[:, list(chosen)]
                a_count = itemsets.count_of(antecedent)
                c_count = itemsets.count_of(consequent)
                confidence = whole / a_count
                lift = confidence * n / c_count
                keep = (confidence >= min_confidence - 1e-12) & (lift >= min_lift - 1e-12)
                parts.append((_pad(antecedent[keep], width), _pad(consequent[keep], width),
                              whole[keep], a_count[keep], c_count[keep]))
    if not parts:
        empty = np.empty((0, width), dtype=np.int64)
        nothing = np.empty(0)
        return Rules(empty, empty, nothing.astype(np.int64), nothing, nothing, nothing,
                     nothing, nothing)
    antecedent, consequent, count, a_count, c_count = (np.concatenate(p) for p in zip(*parts,
                                                                                      strict=True))
    support = count / n
    confidence = count / a_count
    c_support = c_count / n
    with np.errstate(divide="ignore"):
        conviction = np.where(confidence >= 1.0, math.inf,
                              (1 - c_support) / np.maximum(1 - confidence, 1e-300))
    return Rules(antecedent=antecedent, consequent=consequent, count=count, support=support,
                 confidence=confidence, lift=confidence / c_support,
                 leverage=support - (a_count / n) * c_support, conviction=conviction)


def _pad(rows: np.ndarray, width: int) -> np.ndarray:
    padded = np.full((len(rows), width), -1, dtype=np.int64)
    padded[:, :rows.shape[1]] = rows
    return padded
