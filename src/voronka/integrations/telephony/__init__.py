"""Telephony: provider webhooks turned into normalised call events, processed in a job."""
