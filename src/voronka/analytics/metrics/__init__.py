"""The metric registry (DESIGN.md §3): every metric declared once, read by every screen."""
