"""``diagnose --window`` on a stack with many sources: all of them read in the same window."""

from __future__ import annotations

import io
import json
import time
import tomllib
from pathlib import Path

import pytest

from commands.diagnose import diagnose_main
from console.profile import parse_profile
from tests.integration.local_servers import redis_server

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SOURCES = 12  # more than the sweep's 8 worker threads
WINDOW_S = 5.0


def test_every_source_is_read_twice_in_one_window(tmp_path: Path) -> None:
    with redis_server(tmp_path) as url:
        base = url.rsplit("/", 1)[0]
        text = 'name = "many sources"\n'
        for n in range(SOURCES):
            kind = "redis" if n % 2 else "celery-redis"
            text += (f'[[sources]]\nname = "s{n}"\nkind = "{kind}"\nurl = "{base}/{n}"\n'
                     "timeout_s = 0.5\n")
        profile = parse_profile(tomllib.loads(text))
        stdout, stderr = io.StringIO(), io.StringIO()
        start = time.monotonic()
        code = diagnose_main(profile, as_json=True, window_s=WINDOW_S, stdout=stdout,
                             stderr=stderr)
        took_s = time.monotonic() - start
    result = json.loads(stdout.getvalue())
    assert [c["status"] for c in result["checks"]] == ["ok"] * SOURCES, result["checks"]
    assert code == 0
    assert WINDOW_S <= took_s < 2 * WINDOW_S
