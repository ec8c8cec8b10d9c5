"""Voronka: an open-source, self-hosted analytical CRM."""

__version__ = "0.1.0"
