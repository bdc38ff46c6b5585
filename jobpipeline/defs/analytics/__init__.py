"""Analytics: DuckDB tables built from the store, the size sensor that rebuilds them, and data checks."""
