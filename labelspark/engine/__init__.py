"""The engine: Spark sessions (Sail, classic Spark, Spark Connect) and the jars they need,
engine exceptions converted to labelspark's errors, the Spark types of the value kinds, and how
a source is reached (secrets from the environment, each engine's JDBC reader).

Nothing is imported here, so `python -m labelspark.engine.jars` (run by the scripts) needs no pyspark.
"""
