"""K-means segments of clients on standardised behaviour, with k chosen by silhouette."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from voronka.errors import ErrorDetail, InvalidInput

#: Silhouette is O(n²): it is computed on a seeded sample of at most this many clients.
SILHOUETTE_SAMPLE = 4000


class BehaviourClusters:
    """K-means on standardised features, each block of features weighted equally.

    Every column is standardised (zero mean, unit variance); the columns of a block (say the
    one-hot channels, or the category shares) are then divided by √(block size), so that a
    block of many columns weighs as much as one numeric feature. With ``n_clusters=None``,
    k is the value in ``k_range`` with the highest mean silhouette.

    Attributes
    ----------
    n_clusters_ : int
        Number of segments found or used.
    labels_ : ndarray
        Segment (0 … k − 1) of each row, segments numbered by decreasing size.
    silhouettes_ : dict
        Mean silhouette for each k tried.
    centers_ : DataFrame
        Centre of each segment in standardised units (rows = segments, columns = features).

    References
    ----------
    Lloyd, S. P. (1982). Least squares quantization in PCM. *IEEE Transactions on Information
    Theory*, 28(2), 129–137. Rousseeuw, P. J. (1987). Silhouettes: A graphical aid to the
    interpretation and validation of cluster analysis. *Journal of Computational and Applied
    Mathematics*, 20, 53–65.
    """

    def __init__(self, n_clusters: int | None = None, k_range: tuple[int, int] = (2, 8),
                 random_state: int = 0) -> None:
        self.n_clusters = n_clusters
        self.k_range = k_range
        self.random_state = random_state

    def fit(self, features: pd.DataFrame,
            blocks: Mapping[str, Sequence[str]] | None = None) -> BehaviourClusters:
        """Standardise ``features``, choose k if needed, cluster; return self."""
        design = self._design(features, blocks or {})
        # k-means cannot make more segments than there are distinct clients (silhouette
        # needs at least one client more than segments)
        distinct = len(np.unique(design, axis=0))
        most = min(distinct, len(design) - 1)
        low, high = self.k_range
        candidates = [self.n_clusters] if self.n_clusters else list(range(low, high + 1))
        candidates = [k for k in candidates if k <= most]
        if not candidates:
            raise InvalidInput(
                f"{len(design)} clients with {distinct} distinct behaviours are too few for "
                f"{self.n_clusters or low} segments",
                [ErrorDetail("too few clients", field="k")])
        # one thread: k-means' OpenMP workers spin-wait on a busy machine (measured 60× slower
        # on two loaded cores), and the designs here are small
        with threadpool_limits(1):
            fitted = {k: self._kmeans(design, k) for k in candidates}
        self.silhouettes_ = {k: self._silhouette(design, model.labels_)
                             for k, model in fitted.items()}
        best = self.n_clusters or max(self.silhouettes_, key=lambda k: (self.silhouettes_[k], -k))
        self._store(fitted[best], design, features.columns)
        return self

    def _design(self, features: pd.DataFrame, blocks: Mapping[str, Sequence[str]]) -> np.ndarray:
        self.scaler_ = StandardScaler().fit(features.to_numpy(dtype=np.float64))
        weights = np.ones(features.shape[1])
        for columns in blocks.values():
            for column in columns:
                weights[features.columns.get_loc(column)] = 1 / np.sqrt(len(columns))
        self.weights_ = weights
        return self.scaler_.transform(features.to_numpy(dtype=np.float64)) * weights

    def _kmeans(self, design: np.ndarray, k: int) -> KMeans:
        return KMeans(n_clusters=k, n_init=10, random_state=self.random_state).fit(design)

    def _silhouette(self, design: np.ndarray, labels: np.ndarray) -> float | None:
        if len(set(labels)) < 2:
            return None
        sample = min(len(design), SILHOUETTE_SAMPLE)
        return float(silhouette_score(design, labels, sample_size=sample,
                                      random_state=self.random_state))

    def _store(self, model: KMeans, design: np.ndarray, columns: pd.Index) -> None:
        sizes = np.bincount(model.labels_, minlength=model.n_clusters)
        # renumber by decreasing size (ties by the old number) so segment 0 is the largest
        order = np.lexsort((np.arange(len(sizes)), -sizes))
        renumber = np.empty_like(order)
        renumber[order] = np.arange(len(order))
        self.model_ = model
        self.n_clusters_ = int(model.n_clusters)
        self.labels_ = renumber[model.labels_]
        centers = model.cluster_centers_[order] / self.weights_
        self.centers_ = pd.DataFrame(centers, columns=columns)
        self.silhouette_ = self.silhouettes_.get(self.n_clusters_)
