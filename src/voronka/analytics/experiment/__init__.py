"""Experiments: A/B/n tests of campaigns (frequentist, Bayesian, power, peeking guard)."""

from voronka.analytics.experiment.model import ABTest
from voronka.analytics.experiment.summary import VariantSummary

__all__ = ["ABTest", "VariantSummary"]
