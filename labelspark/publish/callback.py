"""The business callback: one signed POST after each run, telling the business it may read.

The data stands whatever the callback does, so `send_callback` never raises for an HTTP
failure: it returns the final error text for the run log. Retries (connection errors and
5xx, with capped exponential backoff) are urllib3's `Retry` under requests, so a callback
takes at most (retries + 1) timeouts plus the backoff. A retried POST may arrive twice (an
answer lost after the body was read): receivers deduplicate by `run_id`.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import os
from typing import Mapping

import requests

from labelspark.config.models import CallbackOutput
from labelspark.publish.http_session import redact, retrying_session

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Labelspark-Signature"
PAYLOAD_KEYS = ("name", "run_id", "snapshot_date", "status", "labels", "rows", "index", "error")


def callback_payload(name: str, run) -> dict:
    """The contract's body from a project name and a `RunRecord` (or anything with its fields)."""
    return {"name": name, **{key: getattr(run, key) for key in PAYLOAD_KEYS if key != "name"}}


def encode(payload: dict) -> bytes:
    """The exact body bytes that are sent and signed (dates as ISO text)."""
    return json.dumps(payload, default=_iso, separators=(",", ":"), ensure_ascii=False).encode()


def signature(secret: str, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256 of the body>`, the value of the signature header."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def send_callback(
    output: CallbackOutput,
    payload: dict,
    *,
    retries: int = 3,
    backoff_seconds: float = 1.0,
    environ: Mapping[str, str] = os.environ,
) -> str | None:
    """POSTs `payload`; None on a 2xx answer, else the final error (after retries) as text."""
    body = encode(payload)
    headers = {"Content-Type": "application/json", "User-Agent": "labelspark"}
    secret = environ.get(output.secret_env) if output.secret_env else None
    if secret:
        headers[SIGNATURE_HEADER] = signature(secret, body)
    elif output.secret_env:
        log.warning("callback: %s is not set, the callback goes unsigned", output.secret_env)
    target = redact(output.url)
    retrying = retrying_session(
        retries=retries, backoff=backoff_seconds, statuses=range(500, 600), other=0, backoff_max=60,
        allowed_methods=frozenset({"POST"}),
    )
    with retrying as http:
        try:
            response = http.post(output.url, data=body, headers=headers, timeout=output.timeout_seconds)
        except requests.RequestException as exc:
            return _failed(f"callback to {target} failed: {type(exc).__name__}: {_cause(exc)}")
    if response.ok:
        log.info("callback to %s: HTTP %d", target, response.status_code)
        return None
    return _failed(f"callback to {target} failed: HTTP {response.status_code} {response.text[:200]}".rstrip())


def _failed(text: str) -> str:
    log.warning("%s", text)
    return text


def _iso(value):
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    raise TypeError(f"a callback payload holds JSON values and dates, not {type(value).__name__}")


def _cause(exc: requests.RequestException) -> str:
    """The underlying reason (refused, timed out) without the request URL."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return str(reason or type(exc).__name__)[:300]
