"""Colours that carry meaning, the Okabe-Ito series palette, and the light and dark themes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QColor, QFont, QGuiApplication, QPalette
from PyQt6.QtWidgets import QApplication

# State colours: the same everywhere, and used for nothing else.
OK = "#2e7d32"
WARN = "#e69f00"
FAIL = "#c62828"
STALE = "#8a8a8a"
ACTIVE = "#7e57c2"  # under way (a seated table); not the blue that marks a selected row
STATE_COLOURS = {"ok": OK, "up": OK, "active": ACTIVE, "warn": WARN, "fail": FAIL, "down": FAIL,
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
    disabled: str  # text of a control that does nothing now: fainter than muted words


LIGHT = Theme("light", "#f6f7f9", "#ffffff", "#f0f2f5", "#1d232b", "#5b6573", "#0072B2",
              "#d7dbe0", "#eceff3", "#a3aab4")
DARK = Theme("dark", "#1b1e23", "#23272e", "#2a2f37", "#e6e9ee", "#9aa4b2", "#56B4E9",
             "#3a404a", "#16181c", "#5f6773")


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


#: The spin box and combo box arrows (resources/icons/arrow-*-<theme>[-disabled].svg), drawn in
#: each theme's muted and disabled colours: once a stylesheet styles a box's border, Qt no
#: longer draws the native arrows.
ARROWS = (Path(__file__).resolve().parent.parent / "resources" / "icons").as_posix()


def stylesheet(theme: Theme) -> str:
    t = theme
    arrows = ARROWS
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
QFrame#banner[problem="true"], QFrame#storageNotice, QLabel#outsideHours {{
    border: 1px solid {t.border}; border-left: 4px solid {WARN}; }}
QLabel#outsideHours {{ padding: 6px; }}
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
QPushButton:disabled, QPushButton[primary="true"]:disabled, QToolButton:disabled {{
    background: {t.alt_base}; color: {t.disabled}; border: 1px dashed {t.border}; }}
QLineEdit:disabled, QComboBox:disabled, QSpinBox:disabled, QDoubleSpinBox:disabled,
QDateEdit:disabled, QDateTimeEdit:disabled, QPlainTextEdit:disabled, QCheckBox:disabled,
QRadioButton:disabled, QLabel:disabled {{ color: {t.disabled}; }}
QLineEdit:disabled, QComboBox:disabled, QSpinBox:disabled, QDoubleSpinBox:disabled,
QDateEdit:disabled, QDateTimeEdit:disabled, QPlainTextEdit:disabled {{ background: {t.alt_base}; }}
QLineEdit:focus, QComboBox:focus, QSpinBox:focus, QDoubleSpinBox:focus, QDateEdit:focus,
QDateTimeEdit:focus, QPlainTextEdit:focus {{ border-color: {t.accent}; }}
QSpinBox, QDoubleSpinBox, QDateEdit, QDateTimeEdit {{ padding-right: 20px; }}
QSpinBox::up-button, QDoubleSpinBox::up-button, QDateEdit::up-button, QDateTimeEdit::up-button {{
    subcontrol-origin: border; subcontrol-position: top right; width: 18px;
    border-left: 1px solid {t.border}; border-top-right-radius: 4px; }}
QSpinBox::down-button, QDoubleSpinBox::down-button, QDateEdit::down-button,
QDateTimeEdit::down-button {{
    subcontrol-origin: border; subcontrol-position: bottom right; width: 18px;
    border-left: 1px solid {t.border}; border-bottom-right-radius: 4px; }}
QSpinBox::up-button:hover, QDoubleSpinBox::up-button:hover, QDateEdit::up-button:hover,
QDateTimeEdit::up-button:hover, QSpinBox::down-button:hover, QDoubleSpinBox::down-button:hover,
QDateEdit::down-button:hover, QDateTimeEdit::down-button:hover {{ background: {t.alt_base}; }}
QSpinBox::up-arrow, QDoubleSpinBox::up-arrow, QDateEdit::up-arrow, QDateTimeEdit::up-arrow {{
    image: url({arrows}/arrow-up-{t.name}.svg); width: 10px; height: 8px; }}
QSpinBox::down-arrow, QDoubleSpinBox::down-arrow, QDateEdit::down-arrow,
QDateTimeEdit::down-arrow, QComboBox::down-arrow {{
    image: url({arrows}/arrow-down-{t.name}.svg); width: 10px; height: 8px; }}
QSpinBox::up-arrow:disabled, QDoubleSpinBox::up-arrow:disabled, QDateEdit::up-arrow:disabled,
QDateTimeEdit::up-arrow:disabled {{ image: url({arrows}/arrow-up-{t.name}-disabled.svg); }}
QSpinBox::down-arrow:disabled, QDoubleSpinBox::down-arrow:disabled,
QDateEdit::down-arrow:disabled, QDateTimeEdit::down-arrow:disabled,
QComboBox::down-arrow:disabled {{ image: url({arrows}/arrow-down-{t.name}-disabled.svg); }}
QComboBox {{ padding-right: 22px; }}
QComboBox::drop-down, QDateEdit::drop-down, QDateTimeEdit::drop-down {{
    subcontrol-origin: padding; subcontrol-position: center right; width: 20px;
    border: none; border-left: 1px solid {t.border}; }}
QComboBox QAbstractItemView {{ background: {t.base}; border: 1px solid {t.border};
    selection-background-color: {t.accent}; selection-color: white; }}
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
