"""Lead scoring: the probability that a deal is won, calibrated, explained, backtested."""
