"""Alerts: sharp drops of registry metrics against their own recent, same-weekday behaviour."""
