"""Saved segments: named target lists of clients, made from a segments report run or an RFM
segment, exported as CSV under the client policy."""
