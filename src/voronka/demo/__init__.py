"""Demo data with known answers: a seeded, fast generator of a whole company.

``generate(engine, clients=..., seed=...)`` empties a migrated store and writes two years of a
company whose behaviour is planted in ``DemoParams``, so analyses can be checked against the
truth. See docs/demo.md.
"""

from voronka.demo.generator import DemoSummary, generate
from voronka.demo.params import DemoParams

__all__ = ["DemoParams", "DemoSummary", "generate"]
