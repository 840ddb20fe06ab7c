"""Print tonight: the run sheet of a service, saved as PDF through Qt and read back."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PyQt6.QtWidgets import QPushButton

from console.run_sheet import allergy_words
from console.shop import BookingStatus
from tests.support.shops import Backend
from tests.support.shots import save_shot
from ui.context import AppContext
from ui.pages.bookings import BookingsPage
from ui.pages.run_sheet import RunSheetDialog

pytestmark = pytest.mark.gui

HOSTILE = "<b>Bob</b> & <i>Co</i>"


def pdf_text(path: Path) -> str:
    tool = shutil.which("pdftotext")
    if tool is None:
        if __import__("os").environ.get("CI") == "true":
            pytest.fail("pdftotext is missing (apt-get install poppler-utils)")
        pytest.skip("pdftotext is missing (apt-get install poppler-utils)")
    out = subprocess.run([tool, "-layout", str(path), "-"], capture_output=True, text=True,
                         timeout=30, check=True)
    return out.stdout


@pytest.fixture
def page(bookings_page: BookingsPage) -> BookingsPage:
    return bookings_page


def local_hour(day: Any, hour: int) -> str:
    """What a UTC hour of ``day`` reads as on this machine's clock."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC).astimezone().strftime(
        "%H:%M")


def test_the_run_sheet_of_a_service_saved_as_pdf_reads_back(
        qtbot: Any, page: BookingsPage, backend: Backend, tmp_path: Path) -> None:
    day = backend.fresh_day()
    backend.add_booking(day, "Early Ada", hour=19, party=2, notes="window seat")
    backend.add_booking(day, HOSTILE, hour=20, party=6, notes="Severe nut allergy, EpiPen")
    backend.add_booking(day, "Lunch Lou", hour=12, party=3)
    gone = backend.add_booking(day, "Gone Gus", hour=21, party=4)
    backend.repo.set_booking_status(gone.id, gone.version, BookingStatus.CANCELLED)
    page.set_day(day)
    qtbot.waitUntil(lambda: not page.model.loading, timeout=10_000)

    page.run_sheet_button.click()
    dialog = page.run_sheet
    assert isinstance(dialog, RunSheetDialog)
    with qtbot.waitSignal(dialog.sig_loaded, timeout=10_000) as loaded:
        dialog.set_service("day")
    sheet = loaded.args[0]
    assert [line.guest for line in sheet.lines] == ["Lunch Lou", "Early Ada", HOSTILE]
    assert sheet.summary == "3 bookings · 11 covers · 1 with allergies"
    if backend.name == "sqlite":
        save_shot(dialog, "run-sheet.png")

    path = tmp_path / "tonight.pdf"
    with qtbot.waitSignal(dialog.sig_saved, timeout=20_000):
        dialog.save_pdf(path)
    assert dialog.message.text().startswith("Saved the run sheet (3 bookings")
    text = pdf_text(path)
    assert "Run sheet: All day, " + day.strftime("%a %d %b %Y") in text
    assert HOSTILE in text  # the name as typed, not markup
    assert "ALLERGY (nut): Severe nut allergy, EpiPen" in text
    assert "Gone Gus" not in text  # cancelled: not expected
    lines = text.splitlines()
    lou = next(line for line in lines if "Lunch Lou" in line)
    ada = next(line for line in lines if "Early Ada" in line)
    assert lines.index(lou) < lines.index(ada)  # by time
    assert local_hour(day, 12) in lou and " 3 " in lou
    assert local_hour(day, 19) in ada and "window seat" in ada
    total = next(line for line in lines if line.strip().startswith("Total"))
    assert total.split()[-1] == "11"


def test_a_pdf_that_cannot_be_written_says_so(qtbot: Any, ctx: AppContext, backend: Backend,
                                              tmp_path: Path) -> None:
    dialog = RunSheetDialog(ctx, backend.fresh_day())
    qtbot.add_widget(dialog)
    qtbot.waitUntil(lambda: dialog.sheet is not None, timeout=10_000)
    dialog.save_pdf(tmp_path / "no such folder" / "sheet.pdf")
    qtbot.waitUntil(lambda: dialog.message.text().startswith("Could not save the PDF: "),
                    timeout=10_000)
    assert dialog.pdf_button.isEnabled()


def test_an_empty_service_says_so(qtbot: Any, ctx: AppContext, backend: Backend) -> None:
    day = backend.fresh_day()
    dialog = RunSheetDialog(ctx, day)
    qtbot.add_widget(dialog)
    qtbot.waitUntil(lambda: dialog.sheet is not None, timeout=10_000)
    assert dialog.sheet is not None and dialog.sheet.lines == ()
    assert dialog.message.text().startswith("No bookings expected for this service")
    assert dialog.pdf_button.isEnabled()


def test_allergy_words_are_found_as_words() -> None:
    assert allergy_words("Coeliac; no NUTS please, nut allergy") == ("coeliac", "nuts", "nut")
    assert allergy_words("birthday, window seat, peanut-free cake") == ("peanut",)
    assert allergy_words("Allergic, see the email") == ()
    assert allergy_words("high chair, anniversary") is None


def test_print_tonight_on_today_opens_tonight_s_dinner(qtbot: Any, ctx: AppContext) -> None:
    from datetime import date

    from ui.pages.today import TodayPage

    page = TodayPage(ctx)
    qtbot.add_widget(page)
    page.show()
    button = next(b for b in page.findChildren(QPushButton) if b.text() == "Print tonight…")
    button.click()
    dialog = page.run_sheet
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.sheet is not None, timeout=10_000)
    assert dialog.day_edit.date().toPyDate() == date.today()
    assert dialog.service_combo.currentData() == "dinner"
    assert dialog.sheet.title.startswith("Dinner, ")
