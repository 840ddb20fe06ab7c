"""A history writer killed with SIGKILL, again and again, leaves a sound file and loses
nothing it had committed."""

from __future__ import annotations

import os
import queue
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from services.monitoring.history_writer import History

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)"),
]

SERIES = 20
BATCH = 50  # samples per series per record() call

WRITER = textwrap.dedent(
    f"""
    import sys
    from console.domain import Reading
    from services.monitoring.history_writer import History

    path, t0 = sys.argv[1], float(sys.argv[2])
    history = History(path, flush_interval_s=0.05)
    counts = {{name: ts.size for name, ts, _ in history.load(0)}}
    i = min(counts.values(), default=0)
    history.start()
    print("ready", i, flush=True)
    while True:
        batch = [
            Reading(f"s{{k}}/m", t0 + j, float(j))
            for j in range(i, i + {BATCH})
            for k in range({SERIES})
        ]
        history.record(batch)
        i += {BATCH}
        if i % ({BATCH} * 16) == 0:  # the writer also flushes on its own timer
            history.flush()
            print("committed", i, flush=True)
    """
)


def committed_in(line: str) -> int:
    """The count of a whole "committed N" line; 0 for the last line of a child killed while it
    printed it (its flush is done, and the next run's "ready" says how far it got)."""
    words = line.split()
    if len(words) == 2 and words[0] == "committed" and words[1].isdigit():
        return int(words[1])
    return 0


def read_lines(stream: object, out: queue.Queue[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        out.put(line.strip())


def test_sigkill_during_writes_never_corrupts_or_loses_committed_samples(
    tmp_path: Path,
) -> None:
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    path = tmp_path / "history.sqlite"
    t0 = time.time() - 3600  # inside the raw retention, so the writer's prune keeps it
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    rng = random.Random(11)
    committed = 0
    for run in range(10):
        proc = subprocess.Popen(
            [sys.executable, str(script), str(path), repr(t0)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        lines: queue.Queue[str] = queue.Queue()
        reader = threading.Thread(
            target=read_lines, args=(proc.stdout, lines), name="test-child-stdout", daemon=True
        )
        reader.start()
        try:
            ready = lines.get(timeout=30)
            assert ready == f"ready {committed}" or int(ready.split()[1]) >= committed, ready
            wanted = rng.randint(1, 4)
            seen = 0
            while seen < wanted:
                word, count = lines.get(timeout=30).split()
                assert word == "committed"
                committed = max(committed, int(count))
                seen += 1
            time.sleep(rng.uniform(0, 0.05))  # somewhere in the middle of a write
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
            # The pipe ends with the child: let the reader see its end before the pipe is
            # closed. Closing it under a reader about to read let that reader take bytes from
            # the next run's pipe, which reused the descriptor (seen in CI: a line "2400").
            reader.join(timeout=10)
            assert not reader.is_alive(), "the child's stdout did not end with the child"
            if proc.stdout is not None:
                proc.stdout.close()
        while not lines.empty():  # a flush reported just before the kill also counts
            done = committed_in(lines.get_nowait())
            committed = max(committed, done)

        with sqlite3.connect(path) as conn:
            assert conn.execute("pragma integrity_check").fetchone()[0] == "ok", f"run {run}"
        history = History(path)
        loaded = {name: (ts, values) for name, ts, values in history.load(0)}
        history.stop()
        assert len(loaded) == SERIES, f"run {run}"
        sizes = {ts.size for ts, _ in loaded.values()}
        assert len(sizes) == 1, "a flush is one transaction: every series or none"
        (kept,) = sizes
        assert kept >= committed, f"run {run}: {committed - kept} committed samples lost"
        for ts, values in loaded.values():
            # a prefix, no holes, no duplicates: only the tail after the last flush is gone
            np.testing.assert_allclose(ts, t0 + np.arange(kept), atol=0.006)
            assert np.array_equal(values, np.arange(kept, dtype=np.float64))
        committed = kept
    assert committed > 0
