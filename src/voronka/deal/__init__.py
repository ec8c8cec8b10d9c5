"""deal domain."""
