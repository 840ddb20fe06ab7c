"""Colours that carry meaning, the Okabe-Ito series palette, and the light and dark themes."""

from __future__ import annotations

from dataclasses import dataclass

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QColor, QFont, QGuiApplication, QPalette
from PyQt6.QtWidgets import QApplication

# State colours: the same everywhere, and used for nothing else.
OK = "#2e7d32"
WARN = "#e69f00"
FAIL = "#c62828"
STALE = "#8a8a8a"
STATE_COLOURS = {"ok": OK, "up": OK, "warn": WARN, "fail": FAIL, "down": FAIL,
                 "stale": STALE, "unknown": STALE, "firing": FAIL, "pending": WARN,
                 "resolved": OK, "no_data": STALE, "nodata": STALE, "error": FAIL}

# Okabe-Ito: colour-blind-safe series colours (black left out; it is the text colour).
SERIES = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
          "#999999")


def series_colour(index: int) -> str:
    """The colour of the index-th series; stable for a given index."""
    return SERIES[index % len(SERIES)]


def state_colour(state: str) -> str:
    return STATE_COLOURS.get(str(state).lower(), STALE)


@dataclass(frozen=True, slots=True)
class Theme:
    """One of the two looks; ``name`` is 'light' or 'dark'."""

    name: str
    window: str
    base: str
    alt_base: str
    text: str
    muted: str
    accent: str
    border: str
    rail: str


LIGHT = Theme("light", "#f6f7f9", "#ffffff", "#f0f2f5", "#1d232b", "#5b6573", "#0072B2",
              "#d7dbe0", "#eceff3")
DARK = Theme("dark", "#1b1e23", "#23272e", "#2a2f37", "#e6e9ee", "#9aa4b2", "#56B4E9",
             "#3a404a", "#16181c")


def system_prefers_dark() -> bool:
    hints = QGuiApplication.styleHints()
    try:
        return bool(hints is not None and hints.colorScheme() == Qt.ColorScheme.Dark)
    except AttributeError:  # Qt older than 6.5
        return False


def resolve(choice: str) -> Theme:
    """'light', 'dark' or 'system' (follow the OS preference)."""
    if choice == "dark":
        return DARK
    if choice == "light":
        return LIGHT
    return DARK if system_prefers_dark() else LIGHT


def stylesheet(theme: Theme) -> str:
    t = theme
    return f"""
QMainWindow, QWidget#page {{ background: {t.window}; }}
QWidget {{ color: {t.text}; }}
QListWidget#navRail {{ background: {t.rail}; border: none; padding-top: 6px; font-size: 13px; }}
QListWidget#navRail::item {{ padding: 9px 12px; border-radius: 6px; margin: 2px 6px; }}
QListWidget#navRail::item:selected {{ background: {t.accent}; color: white; }}
QFrame#topBar {{ background: {t.base}; border-bottom: 1px solid {t.border}; }}
QLabel#shopName {{ font-size: 16px; font-weight: 600; }}
QLabel#muted, QLabel[muted="true"] {{ color: {t.muted}; }}
QFrame#banner {{ background: {t.alt_base}; border: 1px solid {t.border}; border-radius: 6px; }}
QFrame#banner[problem="true"], QFrame#storageNotice {{ border: 1px solid {t.border};
    border-left: 4px solid {WARN}; }}
QFrame#card {{ background: {t.base}; border: 1px solid {t.border}; border-radius: 8px; }}
QLabel#cardValue {{ font-size: 24px; font-weight: 600; }}
QLabel#cardTitle {{ color: {t.muted}; font-size: 12px; }}
QLabel#pageTitle {{ font-size: 18px; font-weight: 600; }}
QLabel#emptyState {{ color: {t.muted}; font-size: 14px; padding: 24px; }}
QLabel#errorText {{ color: {FAIL}; }}
QTableView {{ background: {t.base}; alternate-background-color: {t.alt_base};
              gridline-color: {t.border}; border: 1px solid {t.border}; }}
QHeaderView::section {{ background: {t.alt_base}; color: {t.text}; padding: 4px 6px;
                        border: none; border-bottom: 1px solid {t.border}; font-weight: 600; }}
QLineEdit, QComboBox, QSpinBox, QDoubleSpinBox, QDateEdit, QDateTimeEdit, QPlainTextEdit {{
    background: {t.base}; border: 1px solid {t.border}; border-radius: 4px; padding: 3px 6px; }}
QPushButton {{ background: {t.base}; border: 1px solid {t.border}; border-radius: 4px;
               padding: 4px 12px; }}
QPushButton:hover {{ border-color: {t.accent}; }}
QPushButton:checked {{ background: {t.accent}; color: white; border-color: {t.accent}; }}
QPushButton[primary="true"] {{ background: {t.accent}; color: white; border-color: {t.accent}; }}
QStatusBar {{ background: {t.base}; border-top: 1px solid {t.border}; }}
QFrame#card QLineEdit:disabled, QFrame#card QComboBox:disabled,
QFrame#card QAbstractSpinBox:disabled, QFrame#card QPlainTextEdit:disabled,
QWidget#page QPushButton:disabled {{ color: {t.muted}; background: {t.alt_base}; }}
"""


def apply(app: QApplication, choice: str = "system") -> Theme:
    """Apply a theme to the whole application and return it."""
    theme = resolve(choice)
    palette = QPalette()
    palette.setColor(QPalette.ColorRole.Window, QColor(theme.window))
    palette.setColor(QPalette.ColorRole.Base, QColor(theme.base))
    palette.setColor(QPalette.ColorRole.AlternateBase, QColor(theme.alt_base))
    palette.setColor(QPalette.ColorRole.Text, QColor(theme.text))
    palette.setColor(QPalette.ColorRole.WindowText, QColor(theme.text))
    palette.setColor(QPalette.ColorRole.ButtonText, QColor(theme.text))
    palette.setColor(QPalette.ColorRole.Button, QColor(theme.base))
    palette.setColor(QPalette.ColorRole.Highlight, QColor(theme.accent))
    palette.setColor(QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
    palette.setColor(QPalette.ColorRole.PlaceholderText, QColor(theme.muted))
    app.setPalette(palette)
    app.setStyleSheet(stylesheet(theme))
    app.setProperty("backroom_theme", theme.name)
    return theme


def tabular_font(base: QFont | None = None) -> QFont:
    """A font whose digits line up in columns (tabular figures)."""
    font = QFont(base) if base is not None else QFont()
    font.setStyleHint(QFont.StyleHint.Monospace)
    font.setFamilies(["DejaVu Sans Mono", "Consolas", "Menlo", "monospace"])
    return font
