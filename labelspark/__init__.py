"""labelspark: compute user labels from business sources, on classic Spark, Spark Connect or Sail."""

__version__ = "0.1.0"
