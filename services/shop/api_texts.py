"""What the API adapter says when the shop cannot be reached: one line, in the operator's words."""

from __future__ import annotations

import re

import requests


def still_answering(total: float) -> str:
    return f"the shop was still answering after {total:g} s; it is overloaded or the answer is huge"


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    if not text:
        return type(exc).__name__
    # OpenSSL's reason sits deep inside urllib3's wrapping: keep it rather than the wrapping.
    reason = re.search(r"certificate verify failed: ([^()]+?)(?:\s*\(_ssl|\)|'|$)", text)
    if reason:
        return f"certificate verify failed: {reason.group(1).strip()}"
    return text.splitlines()[0][:200]


def connection_reason(exc: requests.exceptions.ConnectionError) -> str:
    text = str(exc)
    if "Connection refused" in text or "ECONNREFUSED" in text or "[Errno 111]" in text:
        return "connection refused (is the shop's server running?)"
    if "Name or service not known" in text or "getaddrinfo" in text or "nodename" in text:
        return "the host name does not resolve"
    if "timed out" in text:
        return "the connection timed out"
    return first_line(exc)
