"""activity domain."""
