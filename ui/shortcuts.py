"""The console's keyboard shortcuts, and the Help menu that lists them and runs them."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from PyQt6.QtGui import QAction, QKeySequence
from PyQt6.QtWidgets import QMenu, QWidget

REFRESH_KEYS = ("F5", "Ctrl+R")
SEARCH_KEYS = "Ctrl+F"
SWEEP_KEYS = "Ctrl+Shift+D"
PAGE_SLOTS = 9  # Ctrl+1..9


def page_keys(position: int) -> str:
    """Ctrl+N for the page at ``position`` (1-based) of the rail as the current view shows it."""
    return f"Ctrl+{position}"


class HelpMenu(QMenu):
    """Help: every shortcut as an action that runs it, the pages in the current view's order.
    The actions live on ``window`` too, so they work with the menu closed."""

    def __init__(self, window: QWidget, *, refresh: Callable[[], None],
                 search: Callable[[], None], sweep: Callable[[], None],
                 go_to: Callable[[int], None]) -> None:
        super().__init__("&Help", window)
        self.setObjectName("helpMenu")
        self.addSection("Keyboard shortcuts")
        self.refresh_action = self._action(window, "Refresh this page (F5 or Ctrl+R)",
                                           REFRESH_KEYS, refresh)
        self.search_action = self._action(window, "Search this page", (SEARCH_KEYS,), search)
        self.sweep_action = self._action(window, "Run the diagnostic sweep", (SWEEP_KEYS,), sweep)
        self.addSection("Pages of this view")
        self.page_actions: list[QAction] = []
        for position in range(1, PAGE_SLOTS + 1):
            action = self._action(window, "", (page_keys(position),),
                                  partial(go_to, position))
            self.page_actions.append(action)

    def _action(self, window: QWidget, text: str, keys: tuple[str, ...],
                slot: Callable[[], None]) -> QAction:
        action = QAction(text, self)
        action.setShortcuts([QKeySequence(k) for k in keys])
        action.triggered.connect(lambda _checked=False: slot())
        window.addAction(action)
        self.addAction(action)
        return action

    def set_pages(self, titles: list[str]) -> None:
        """Name Ctrl+1.. after the pages the rail shows now; slots past them do nothing."""
        for position, action in enumerate(self.page_actions, start=1):
            title = titles[position - 1] if position <= len(titles) else ""
            action.setText(f"Go to {title}" if title else "")
            action.setVisible(bool(title))
            action.setEnabled(bool(title))

    def listing(self) -> list[str]:
        """Each shortcut as the menu shows it: 'words<TAB>keys'."""
        return [f"{a.text()}\t{' or '.join(k.toString() for k in a.shortcuts())}"
                for a in self.actions() if a.isVisible() and not a.isSeparator()]
