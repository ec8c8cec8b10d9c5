"""Behaviour segments: clients clustered by k-means on features the engine builds.

The ``segments`` report (``report.py``) profiles the segments; saved target lists live in
the ``voronka.segment`` domain package.
"""

from voronka.analytics.segment.clustering import BehaviourClusters

__all__ = ["BehaviourClusters"]
