"""Integrations: the raw inbound log and one package per kind of provider (telephony…)."""
