"""The ``voronka`` command line: one group per area, thin over the services."""
