"""Delta tables under the warehouse: the label snapshot (history, stats and the rest build on it)."""
