"""Inbound e-mail: an IMAP mailbox whose new messages become leads (docs/integrations.md)."""
