"""Analytics: reports as ibis expressions, run by one runner on DuckDB, PostgreSQL or Spark."""
