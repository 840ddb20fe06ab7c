"""Hostile text from outside for GUI tests: markup, an image on a FIFO, bidi, NUL, 100 kB.

What a user sees is checked the way Qt decides it: a label or tooltip whose text Qt takes
for rich text is rendered through QTextDocument, so `<h1>` tags vanish and `&lt;` becomes
`<`; the literal hostile string must be in what is left. An `<img>` points at a FIFO: if
Qt's image loader opened it, the GUI thread would block in open() until a writer came. A
watcher thread notices a reader (a non-blocking open for writing succeeds only when one is
there), holds it a while so the freeze shows, then lets it go; a timer on the GUI thread
measures the longest gap between its ticks.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtGui import QTextDocument
from PyQt6.QtWidgets import QLabel, QWidget

#: How long the watcher keeps the first opener of the FIFO blocked (a frozen GUI shows).
HOLD_S = 3.0
#: The longest the GUI thread may go without running its timer.
MAX_GAP_S = 2.0
#: Invisible marks the console may put around outside text to keep its direction to itself.
ISOLATES = str.maketrans("", "", "\u2068\u2069")


def corpus(fifo: Path) -> dict[str, str]:
    """Hostile strings by a short id (all but the last fit a 120-character name)."""
    return {
        "img": f"Ana <img src={fifo}> Ruiz",
        "link": "Bo <a href=https://refund.example/ok>Refund approved, click</a>",
        "h1": "<h1 style=color:red>REFUND APPROVED</h1>",
        "table": "<table border=1><tr><td>Total</td><td>0.00</td></tr></table>",
        "rtl": "Ana \u202egnp.exe Ruiz",  # an override never closed
        "nul": "Ana\x00<b>Ruiz</b>",
        "big": "<b>" + "A" * 100_000 + "</b>",
    }


def rendered(text: str, fmt: Qt.TextFormat = Qt.TextFormat.AutoText) -> str:
    """What Qt shows for ``text`` in a label of format ``fmt`` (or a tooltip: AutoText)."""
    rich = fmt == Qt.TextFormat.RichText or (
        fmt == Qt.TextFormat.AutoText and Qt.mightBeRichText(text))
    if not rich:
        return text.translate(ISOLATES)
    doc = QTextDocument()
    doc.setHtml(text)
    return doc.toPlainText().translate(ISOLATES)


def label_shows(label: QLabel, literal: str) -> bool:
    return literal in rendered(label.text(), label.textFormat())


def labels_showing(root: QWidget, literal: str) -> list[QLabel]:
    """The labels under ``root`` (itself included) that show ``literal`` to the user."""
    labels = [root] if isinstance(root, QLabel) else []
    labels += root.findChildren(QLabel)
    return [label for label in labels if label_shows(label, literal)]


def assert_label_shows(label: QLabel, literal: str) -> None:
    shown = rendered(label.text(), label.textFormat())
    assert literal in shown, (
        f"the user sees {shown[:200]!r} (format {label.textFormat().name}), "
        f"not the literal {literal[:200]!r}")


def assert_tooltip_shows(tip: str | None, literal: str, near: QWidget | None = None) -> None:
    """Show ``tip`` as the user's hover would (images load then), and check its text."""
    assert tip, "no tooltip"
    # What QToolTip does with it (its QTipLabel: a label of format AutoText, wrapping when
    # rich), as a child of ``near`` (a tooltip window's raise() makes the offscreen
    # platform warn).
    tip_label = QLabel(near)
    tip_label.setWordWrap(Qt.mightBeRichText(tip))
    tip_label.setText(tip)
    tip_label.adjustSize()
    tip_label.show()
    try:
        shown = rendered(tip)
        assert literal in shown, f"the tooltip shows {shown[:200]!r}, not {literal[:200]!r}"
    finally:
        tip_label.close()
        tip_label.deleteLater()


# The watcher is a child process: Qt opens the file from C++ while the GUI thread holds the
# GIL, so a Python thread of this process could not run until the open returned.
_WATCHER = """
import errno, os, select, sys, time
path, hold = sys.argv[1], float(sys.argv[2])
while not select.select([sys.stdin], [], [], 0.01)[0]:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    except OSError as err:  # ENXIO: nobody is reading, as it should be
        if err.errno != errno.ENXIO:
            raise
        continue
    print("opened", flush=True)
    time.sleep(hold)  # the first reader stays blocked meanwhile; later ones go at once
    hold = 0.0
    os.close(fd)  # end of file: the reader gives up on the "image"
"""


@dataclass
class FifoWatch:
    """A FIFO that an `<img>` names; counts the times anyone opened it for reading."""

    path: Path
    opened: int = 0
    _child: subprocess.Popen[str] | None = None

    def start(self) -> FifoWatch:
        os.mkfifo(self.path)
        self._child = subprocess.Popen(
            [sys.executable, "-c", _WATCHER, str(self.path), str(HOLD_S)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        return self

    def stop(self) -> None:
        """Stop watching and take the FIFO away so that nothing can ever block on it: a
        widget of the test that lays out its text later opens nothing (the path is gone), and
        one caught opening it meanwhile sees a writer come and go (end of file)."""
        child, self._child = self._child, None
        if child is None:
            return
        out, _ = child.communicate("stop\n", timeout=HOLD_S + 5)
        self.opened = out.count("opened")
        # Only the GUI thread (this one) loads images, so nobody opens it from here on; and
        # if a reader were waiting, read-write (never blocking on Linux) lets it through.
        keep = os.open(self.path, os.O_RDWR | os.O_NONBLOCK)
        self.path.unlink()
        os.close(keep)


class GuiTicks:
    """A timer on the GUI thread; :attr:`max_gap_s` is the longest it went without a tick."""

    def __init__(self, interval_ms: int = 20) -> None:
        self.max_gap_s = 0.0
        self._last = time.monotonic()
        self.timer = QTimer()
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        now = time.monotonic()
        self.max_gap_s = max(self.max_gap_s, now - self._last)
        self._last = now

    def stop(self) -> None:
        self._tick()
        self.timer.stop()

    @contextlib.contextmanager
    def aside(self) -> Iterator[None]:
        """The test's own blocking work on the GUI thread (writing a shop's rows the way its
        web site would): not counted as the console blocking it."""
        self._tick()
        try:
            yield
        finally:
            self._last = time.monotonic()


@dataclass
class Hostile:
    """The corpus of one test, its FIFO and the GUI thread's ticks."""

    strings: dict[str, str]
    fifo: FifoWatch
    ticks: GuiTicks

    def check_gui_was_free(self) -> None:
        self.ticks.stop()
        self.fifo.stop()
        assert self.fifo.opened == 0, (
            f"an <img> in outside text was loaded: the FIFO {self.fifo.path} was opened "
            f"{self.fifo.opened} time(s) (the GUI thread blocked in it)")
        assert self.ticks.max_gap_s < MAX_GAP_S, (
            f"the GUI thread was blocked for {self.ticks.max_gap_s:.1f} s")
