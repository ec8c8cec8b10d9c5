"""Inbound leads: web forms and the lead intake shared by forms and inbound e-mail."""
