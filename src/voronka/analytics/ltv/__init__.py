"""Lifetime value: BG/NBD and Pareto/NBD purchase models, the Gamma-Gamma spend model,
the customer summary they fit on, and discounted CLV.

For analysts (notebooks), on any table of purchases::

    from voronka.analytics.ltv import fit_ltv
    result = fit_ltv(frame, customer="client", date="paid_at", amount="total")
    result["r"], result["alpha"], result["a"], result["b"]      # BG/NBD
    result["customers"][:10]                                     # top customers by CLV

or the estimators directly (scikit-learn conventions)::

    from voronka.analytics.ltv import BetaGeoModel, summarise
    model = BetaGeoModel().fit(summary["frequency"], summary["recency"], summary["T"])

On Voronka's own data the ``ltv`` report (``voronka report ltv``) does the same through the
analytics engine.
"""

from voronka.analytics.ltv.analyst import fit_ltv
from voronka.analytics.ltv.bgnbd import BetaGeoModel
from voronka.analytics.ltv.gamma_gamma import GammaGammaModel
from voronka.analytics.ltv.pnbd import ParetoNBDModel
from voronka.analytics.ltv.summary import TimeUnit, daily_transactions, summarise
from voronka.analytics.ltv.value import cumulative_purchases, discounted_value, purchase_model

__all__ = [
    "BetaGeoModel",
    "GammaGammaModel",
    "ParetoNBDModel",
    "TimeUnit",
    "cumulative_purchases",
    "daily_transactions",
    "discounted_value",
    "fit_ltv",
    "purchase_model",
    "summarise",
]
