"""``voronka analyze <model> FILE …``: analyst mode, every model on a plain file.

One module per model defines its command on ``app`` (from ``voronka.cli.analyze.base``) and
is imported below. The contract (options, JSON keys) is documented in docs/analyst-mode.md.
"""

# Each model's command module registers itself on ``app`` when imported (one line each).
from voronka.cli.analyze import (
    abtest,  # noqa: F401
    attribution,  # noqa: F401
    basket,  # noqa: F401
    forecast,  # noqa: F401
    ltv,  # noqa: F401
)
from voronka.cli.analyze.base import app

__all__ = ["app"]
