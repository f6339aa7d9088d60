"""Publishing: the snapshot to Elasticsearch/OpenSearch behind an alias, and the business callback.

    name = publish(spark, project, snapshot_df, run_date, run_id)   # raises PublishError
    error = send_callback(project.outputs.callback, callback_payload(project.name, run_record))
"""
from labelspark.errors import PublishError
from labelspark.publish.callback import callback_payload, send_callback
from labelspark.publish.mapping import index_body, index_name
from labelspark.publish.publisher import publish

__all__ = ["PublishError", "callback_payload", "index_body", "index_name", "publish", "send_callback"]
