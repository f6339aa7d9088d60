"""Tables derived from a day's snapshot: stats, segment members, the history rows of the day.
Computation only (DataFrames in, DataFrames out); labelspark.warehouse writes them."""
