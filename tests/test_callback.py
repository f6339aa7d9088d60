"""The business callback against a real HTTP server in the test (127.0.0.1, a thread)."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import socket

import pytest

from labelspark.config.models import CallbackOutput
from labelspark.publish import callback_payload, send_callback
from labelspark.warehouse.runs import RunRecord

pytestmark = pytest.mark.portable

SECRET = "s3cret-ключ"
PAYLOAD = {
    "name": "shop",
    "run_id": "20260331120000abc123",
    "snapshot_date": "2026-03-31",
    "status": "succeeded",
    "labels": ["tier", "spend"],
    "rows": 500,
    "index": "shop_labels-20260331-20260331120000abc123",
    "error": None,
}


def output(url, secret_env="LS_TEST_CALLBACK_SECRET", timeout=5.0):
    return CallbackOutput(url=url, secret_env=secret_env, timeout_seconds=timeout)


def test_body_is_the_json_and_the_signature_is_an_hmac_of_its_bytes(receiver, monkeypatch):
    monkeypatch.setenv("LS_TEST_CALLBACK_SECRET", SECRET)
    server = receiver(200)

    assert send_callback(output(server.url), PAYLOAD) is None

    [(headers, body)] = server.requests
    assert json.loads(body) == PAYLOAD
    assert headers["Content-Type"] == "application/json"
    expected = "sha256=" + hmac.new(SECRET.encode("utf-8"), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Labelspark-Signature"], expected)


@pytest.mark.parametrize("secret_env", [None, "LS_TEST_CALLBACK_UNSET"])
def test_no_secret_no_signature(receiver, monkeypatch, secret_env):
    monkeypatch.delenv("LS_TEST_CALLBACK_UNSET", raising=False)
    server = receiver(200)
    assert send_callback(output(server.url, secret_env=secret_env), PAYLOAD) is None
    [(headers, body)] = server.requests
    assert "X-Labelspark-Signature" not in headers
    assert json.loads(body) == PAYLOAD


def test_payload_of_a_run_record():
    run = RunRecord(dt.date(2026, 3, 31), run_id="r1", status="failed", labels=["tier"], rows=3, error="boom")
    assert callback_payload("shop", run) == {
        "name": "shop", "run_id": "r1", "snapshot_date": dt.date(2026, 3, 31), "status": "failed",
        "labels": ["tier"], "rows": 3, "index": None, "error": "boom",
    }


def test_dates_are_sent_as_iso_text(receiver):
    server = receiver(200)
    run = RunRecord(dt.date(2026, 3, 31), run_id="r1", status="succeeded", rows=0)
    assert send_callback(output(server.url, secret_env=None), callback_payload("shop", run)) is None
    assert json.loads(server.requests[0][1])["snapshot_date"] == "2026-03-31"


def test_500s_are_retried_until_success(receiver, monkeypatch):
    monkeypatch.setenv("LS_TEST_CALLBACK_SECRET", SECRET)
    server = receiver(500, 503, 200)

    assert send_callback(output(server.url), PAYLOAD, retries=3, backoff_seconds=0.01) is None

    assert len(server.requests) == 3
    assert len({body for _, body in server.requests}) == 1
    assert len({headers["X-Labelspark-Signature"] for headers, _ in server.requests}) == 1


def test_final_failure_is_returned_as_text_without_the_query(receiver):
    server = receiver(502)

    error = send_callback(output(server.url), PAYLOAD, retries=2, backoff_seconds=0.01)

    assert error is not None and "HTTP 502 busy" in error
    assert "/labels/done" in error and "token" not in error
    assert len(server.requests) == 3  # the first try and two retries


def test_client_errors_are_not_retried(receiver):
    server = receiver(400)
    error = send_callback(output(server.url), PAYLOAD, retries=3, backoff_seconds=0.01)
    assert "HTTP 400" in error
    assert len(server.requests) == 1


def test_a_refused_connection_is_returned_as_text():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}/done"
    error = send_callback(output(url), PAYLOAD, retries=1, backoff_seconds=0.01)
    assert error.startswith("callback to http://127.0.0.1:") and "ConnectionError" in error


def test_a_slow_server_times_out(receiver):
    server = receiver(200, delay=1.0)
    error = send_callback(output(server.url, timeout=0.2), PAYLOAD, retries=0)
    assert error is not None and "timed out" in error
