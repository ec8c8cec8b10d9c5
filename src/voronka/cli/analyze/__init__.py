"""``voronka analyze <model> FILE …``: analyst mode, every model on a plain file.

One module per model defines its command on ``app`` (from ``voronka.cli.analyze.base``) and
is imported below. The contract (options, JSON keys) is documented in docs/analyst-mode.md.
"""

from voronka.cli.analyze.base import app

# Each model's command module registers itself on ``app`` when imported (one line each).
from voronka.cli.analyze import abtest  # noqa: F401, E402
from voronka.cli.analyze import attribution  # noqa: F401, E402
from voronka.cli.analyze import basket  # noqa: F401, E402
from voronka.cli.analyze import forecast  # noqa: F401, E402
from voronka.cli.analyze import ltv  # noqa: F401, E402

__all__ = ["app"]
