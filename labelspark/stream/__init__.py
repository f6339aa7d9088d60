"""Real-time labels: `labelspark stream` keeps the `realtime: true` labels of the entities that new
rows of the `stream: true` sources touch up to date within seconds, on classic Spark's Structured
Streaming, while the nightly run stays the authority.

- `query`: the streaming query, its checkpoint and lock, stop signals, following the alias.
- `batch`: one micro-batch: touched entities, their labels as of now, changes, label_updates, the index.

Nothing is imported here, so that `labelspark.stream` costs nothing to the commands that never stream.
"""
