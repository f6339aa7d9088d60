"""What the outputs and the business callback share over HTTP: a URL as it may be shown, a secret
from the environment, and a `requests` session whose retries (with backoff) are urllib3's `Retry`."""
from __future__ import annotations

from typing import Mapping
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from labelspark.errors import PublishError


def redact(url: str) -> str:
    """The URL as it may be logged: any user:password@ shown as `***@`, query and fragment
    dropped (tokens often travel there)."""
    parts = urlsplit(url)
    netloc = parts.netloc if "@" not in parts.netloc else "***@" + parts.netloc.rsplit("@", 1)[1]
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def retrying_session(*, retries: int, backoff: float, statuses, **options) -> requests.Session:
    """A session retrying connection errors, reads and the answers in `statuses` up to `retries`
    times with exponential backoff; never a `Retry-After` wait (one of hours would stall the run),
    and the last answer is returned, not raised. `options` go to `Retry` as they are
    (`allowed_methods`, `other`, `backoff_max`)."""
    retry = Retry(
        total=retries, connect=retries, read=retries, status=retries, backoff_factor=backoff,
        status_forcelist=statuses, raise_on_status=False, respect_retry_after_header=False, **options,
    )
    session = requests.Session()
    for scheme in ("http://", "https://"):
        session.mount(scheme, HTTPAdapter(max_retries=retry))
    return session


def secret_from_env(environ: Mapping[str, str], name: str | None, setting: str) -> str | None:
    """The value of the environment variable `name` that the config's `setting` (its YAML path)
    names; None when it names none. The value itself is never put in a message."""
    if name is None:
        return None
    value = environ.get(name)
    if not value:
        raise PublishError(f"{setting} names the environment variable {name}, which is not set")
    return value
