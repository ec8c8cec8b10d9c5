"""``LeadScorer``: a calibrated, explainable probability that a deal is won.

A logistic regression on one-hot categories and standardised numbers ranks the deals; its
out-of-fold scores are calibrated to probabilities by isotonic regression (or Platt's
sigmoid), a monotone map, so the ranking and its explanation stay those of the regression.
Each deal's score is explained exactly in log-odds: the contribution of a feature is its
coefficients times the deal's encoded values minus the average deal's, summed over the
feature's columns; the contributions add up to the deal's log-odds minus the average deal's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.calibration import _SigmoidCalibration
from sklearn.compose import ColumnTransformer
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from voronka.analytics.scoring.features import CATEGORICAL, NUMERIC


class LeadScorer:
    """Logistic regression with out-of-fold calibration and per-deal explanations.

    Parameters
    ----------
    C : float
        Inverse L2 regularisation strength of the logistic regression.
    calibration : {"isotonic", "sigmoid"}
        Isotonic regression (Zadrozny & Elkan 2002) or Platt's sigmoid (Platt 1999) on
        out-of-fold scores.
    folds : int
        Folds of the out-of-fold scores the calibration is fitted on.
    min_category_count : int
        Categories seen fewer times share one "infrequent" column.
    random_state : int
        Seed of the fold split.

    Attributes
    ----------
    encoder_ : ColumnTransformer
        One-hot categories and standardised numbers.
    regression_ : LogisticRegression
        The fitted regression on all training deals.
    calibrator_ : IsotonicRegression or sigmoid calibration
        Maps the regression's log-odds to calibrated probabilities.
    mean_encoded_ : ndarray
        The average training deal, encoded (the reference of the contributions).
    base_rate_ : float
        Share of won deals in training.

    References
    ----------
    Platt, J. (1999). Probabilistic outputs for support vector machines and comparisons to
    regularized likelihood methods. *Advances in Large Margin Classifiers*, 61–74.
    Zadrozny, B. & Elkan, C. (2002). Transforming classifier scores into accurate multiclass
    probability estimates. *KDD '02*, 694–699.
    Niculescu-Mizil, A. & Caruana, R. (2005). Predicting good probabilities with supervised
    learning. *ICML '05*, 625–632.
    """

    def __init__(self, C: float = 1.0, calibration: str = "isotonic", folds: int = 5,
                 min_category_count: int = 10, random_state: int = 0) -> None:
        self.C = C
        self.calibration = calibration
        self.folds = folds
        self.min_category_count = min_category_count
        self.random_state = random_state

    def _encoder(self) -> ColumnTransformer:
        return ColumnTransformer([
            ("category", OneHotEncoder(handle_unknown="infrequent_if_exist",
                                       min_frequency=self.min_category_count,
                                       sparse_output=False), list(CATEGORICAL)),
            ("number", StandardScaler(), list(NUMERIC)),
        ])

    def _regression(self) -> LogisticRegression:
        # Newton–Cholesky: exact and fast for the few dozen columns a deal has.
        return LogisticRegression(C=self.C, solver="newton-cholesky", max_iter=200)

    def fit(self, features: pd.DataFrame, won: Any) -> LeadScorer:
        """Learn from closed deals: ``features`` (columns FEATURES) and ``won`` (0/1)."""
        if self.calibration not in ("isotonic", "sigmoid"):
            raise ValueError("calibration must be isotonic or sigmoid")
        y = np.asarray(won, dtype=int)
        if len(np.unique(y)) < 2:
            raise ValueError("training needs both won and lost deals")
        # One BLAS thread: on matrices this small, more threads only contend (8× slower on
        # a busy two-core machine).
        with threadpool_limits(1):
            return self._fit(features, y)

    def _fit(self, features: pd.DataFrame, y: np.ndarray) -> LeadScorer:
        self.encoder_ = self._encoder().fit(features)
        encoded = self.encoder_.transform(features)
        self.regression_ = self._regression().fit(encoded, y)
        self.mean_encoded_ = encoded.mean(axis=0)
        self.base_rate_ = float(y.mean())
        self.calibrator_ = self._calibrate(encoded, y)
        return self

    def _calibrate(self, encoded: np.ndarray, y: np.ndarray) -> Any:
        # The encoding (categories, scaling) is learnt once on all training deals; only the
        # regression is refitted per fold, which is what the out-of-fold scores must avoid.
        folds = min(self.folds, int(np.bincount(y).min()))
        scores = np.empty(len(y))
        if folds >= 2:
            split = StratifiedKFold(folds, shuffle=True, random_state=self.random_state)
            for train, test in split.split(encoded, y):
                model = self._regression().fit(encoded[train], y[train])
                scores[test] = model.decision_function(encoded[test])
        else:  # too few of one class for folds: calibrate on the training scores
            scores = self.regression_.decision_function(encoded)
        if self.calibration == "isotonic":
            return IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(scores, y)
        return _SigmoidCalibration().fit(scores, y)

    def log_odds(self, features: pd.DataFrame) -> np.ndarray:
        """The regression's uncalibrated log-odds of winning."""
        return self.regression_.decision_function(self.encoder_.transform(features))

    def predict_probability(self, features: pd.DataFrame) -> np.ndarray:
        """Calibrated probability that each deal is won."""
        return np.clip(self.calibrator_.predict(self.log_odds(features)), 0.0, 1.0)

    def _column_features(self) -> list[str]:
        """The source feature of each encoded column."""
        out = []
        for name in self.encoder_.get_feature_names_out():
            block, _, rest = name.partition("__")
            out.append(next(f for f in (*CATEGORICAL, *NUMERIC)
                            if rest == f or rest.startswith(f + "_")) if block else rest)
        return out

    def contributions(self, features: pd.DataFrame) -> pd.DataFrame:
        """Log-odds contribution of each feature per deal, against the average deal."""
        encoded = self.encoder_.transform(features)
        parts = (encoded - self.mean_encoded_) * self.regression_.coef_[0]
        frame = pd.DataFrame(parts, columns=self._column_features(), index=features.index)
        return frame.T.groupby(level=0, sort=False).sum().T

    def coefficients(self) -> list[dict[str, Any]]:
        """Each encoded column with its coefficient (log-odds per unit or vs the average)."""
        names = self.encoder_.get_feature_names_out()
        return [{"column": name.partition("__")[2], "coefficient": float(c)}
                for name, c in zip(names, self.regression_.coef_[0], strict=True)]

    def category_effects(self, feature: str) -> dict[str, float]:
        """Log-odds effect of each category of ``feature`` against the average deal."""
        position = list(CATEGORICAL).index(feature)
        encoder: OneHotEncoder = self.encoder_.named_transformers_["category"]
        names = encoder.get_feature_names_out(list(CATEGORICAL))
        coefs = dict(zip(self.encoder_.get_feature_names_out(), self.regression_.coef_[0],
                         strict=True))
        prefix = f"{CATEGORICAL[position]}_"
        columns = [n for n in names if n.startswith(prefix)]
        values = np.array([coefs[f"category__{n}"] for n in columns])
        means = np.array([self.mean_encoded_[list(self.encoder_.get_feature_names_out())
                                             .index(f"category__{n}")] for n in columns])
        centre = float(values @ means)
        return {n[len(prefix):]: float(v - centre) for n, v in zip(columns, values, strict=True)}
