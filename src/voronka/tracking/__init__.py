"""Site tracking: the first-party tracker snippet, visits, goals and the call-tracking pool."""
