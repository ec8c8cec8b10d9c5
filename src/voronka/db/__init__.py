"""Persistence: declarative base, column types, engine and transaction boundary."""
