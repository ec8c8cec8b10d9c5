"""support domain."""
