"""The one failure a publish reports: what went wrong, with the index already cleaned up."""
from __future__ import annotations

from labelspark.errors import LabelsparkError


class PublishError(LabelsparkError):
    """Publishing to Elasticsearch/OpenSearch failed; the alias still points where it did."""
