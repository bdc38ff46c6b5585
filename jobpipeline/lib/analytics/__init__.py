"""DuckDB analytics built from the operational store: loading, the table builds, and read-only queries."""
