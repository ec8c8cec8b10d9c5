"""campaign domain."""
