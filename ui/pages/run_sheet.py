"""Print tonight: one service's run sheet, previewed, printed or saved as PDF through Qt."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from PyQt6.QtCore import QDate, QMarginsF, pyqtSignal
from PyQt6.QtGui import QPageLayout, QPageSize, QTextDocument
from PyQt6.QtPrintSupport import QPrintDialog, QPrinter
from PyQt6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QHBoxLayout,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from console.run_sheet import EXPECTED, SERVICES, RunSheet, build_run_sheet, run_sheet_html
from console.shop import Booking, BookingQuery
from ui.context import AppContext
from ui.file_dialogs import ask_save_path
from ui.pages.shop_texts import NO_BACKEND, error_text
from ui.pages.shop_widgets import message_label, set_message
from ui.worker import TaskState


def expected_bookings(shop: Any, start: datetime, end: datetime,
                      state: TaskState) -> list[Booking]:
    """Every booking expected in [start, end), page by page (runs on a worker)."""
    query = BookingQuery(start_from=start, start_to=end, statuses=EXPECTED)
    rows: list[Booking] = []
    cursor: str | None = None
    while True:
        state.check()
        page = shop.list_bookings(query, after=cursor, limit=200)
        rows.extend(page.rows)
        if page.next_cursor is None:
            return rows
        cursor = page.next_cursor


def sheet_document(sheet: RunSheet) -> QTextDocument:
    """The sheet as a document Qt prints (the HTML's outside text is escaped already)."""
    doc = QTextDocument()
    doc.setHtml(run_sheet_html(sheet))
    return doc


def save_pdf(sheet: RunSheet, path: Path) -> None:
    """Write the sheet to ``path`` as an A4 landscape PDF (wide enough for notes); any thread."""
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(path))
    printer.setPageLayout(QPageLayout(QPageSize(QPageSize.PageSizeId.A4),
                                      QPageLayout.Orientation.Landscape,
                                      QMarginsF(12, 12, 12, 12), QPageLayout.Unit.Millimeter))
    printer.setDocName(f"Run sheet: {sheet.title}")
    path.open("wb").close()  # the OSError of a folder that is not there, which Qt would drop
    sheet_document(sheet).print(printer)
    if path.stat().st_size == 0:
        raise OSError(f"{path} could not be written")


class RunSheetDialog(QDialog):
    """Pick a day and a service; see its run sheet; print it or save it as PDF."""

    sig_loaded = pyqtSignal(object)
    """Emitted with the :class:`RunSheet` each time one is shown."""
    sig_saved = pyqtSignal(object)
    """Emitted with the PDF's path once it is written."""

    def __init__(self, ctx: AppContext, day: date | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.sheet: RunSheet | None = None
        self._task: Any = None
        self.setWindowTitle("Run sheet")
        self.resize(820, 640)
        layout = QVBoxLayout(self)
        bar = QHBoxLayout()
        day = day or date.today()
        self.day_edit = QDateEdit(QDate(day.year, day.month, day.day))
        self.day_edit.setCalendarPopup(True)
        self.day_edit.setDisplayFormat("ddd d MMM yyyy")
        self.service_combo = QComboBox()
        for service in SERVICES:
            self.service_combo.addItem(service.label, service.key)
        bar.addWidget(self.day_edit)
        bar.addWidget(self.service_combo)
        bar.addStretch(1)
        self.pdf_button = QPushButton("Save PDF…")
        self.print_button = QPushButton("Print…")
        self.print_button.setProperty("primary", True)
        bar.addWidget(self.pdf_button)
        bar.addWidget(self.print_button)
        layout.addLayout(bar)
        self.preview = QTextBrowser()
        self.preview.setOpenLinks(False)
        layout.addWidget(self.preview, 1)
        self.message = message_label()
        layout.addWidget(self.message)
        close = QHBoxLayout()
        close.addStretch(1)
        close_button = QPushButton("Close")
        close_button.clicked.connect(self.accept)
        close.addWidget(close_button)
        layout.addLayout(close)
        self.day_edit.dateChanged.connect(self.load)
        self.service_combo.currentIndexChanged.connect(self.load)
        self.pdf_button.clicked.connect(self._ask_pdf)
        self.print_button.clicked.connect(self._print)
        self._set_ready(False)
        self.load()

    def set_service(self, key: str) -> None:
        self.service_combo.setCurrentIndex(self.service_combo.findData(key))

    def load(self) -> None:
        """Read the chosen service's bookings off the GUI thread and show the sheet."""
        shop = self.ctx.shop
        if shop is None:
            self._say(NO_BACKEND, "fail")
            return
        if self._task is not None:
            self._task.cancel()
        day = self.day_edit.date().toPyDate()
        service = SERVICES[max(0, self.service_combo.currentIndex())]
        start, end = service.window(day)
        name = self.ctx.profile.name if self.ctx.services.profile is not None else ""
        shop_name = name or str(getattr(shop, "location", ""))
        self._set_ready(False)
        self._say("Loading…", "")
        self._task = self.ctx.tasks.run(
            lambda s: expected_bookings(shop, start, end, s), owner=self,
            on_success=lambda rows: self._show(build_run_sheet(
                rows, day, service, shop=shop_name, now=datetime.now(UTC))),
            on_failure=lambda exc: self._say("Could not read the bookings. " +
                                             error_text(exc, str(getattr(shop, "location", ""))),
                                             "fail"),
            name="run-sheet")

    def save_pdf(self, path: Path) -> None:
        """Save the shown sheet as a PDF at ``path`` off the GUI thread (a long sheet takes a
        second; Qt paints to a printer in any thread) and say where."""
        sheet = self.sheet
        if sheet is None:
            return
        self._set_ready(False)
        self._say("Saving the PDF…", "")

        def saved(_none: None) -> None:
            self._set_ready(True)
            self._say(f"Saved the run sheet ({sheet.summary}) to {path}.", "")
            self.sig_saved.emit(path)

        def failed(exc: BaseException) -> None:
            self._set_ready(True)
            self._say(f"Could not save the PDF: {exc}", "fail")

        self.ctx.tasks.run(lambda _s: save_pdf(sheet, path), owner=self, on_success=saved,
                           on_failure=failed, name="run-sheet-pdf")

    def _show(self, sheet: RunSheet) -> None:
        self._task = None
        self.sheet = sheet
        self.preview.setHtml(run_sheet_html(sheet))
        self._say("" if sheet.lines else "No bookings expected for this service: pick another "
                  "day or service.", "")
        self._set_ready(True)
        self.sig_loaded.emit(sheet)

    def _ask_pdf(self) -> None:
        if self.sheet is None:
            return
        name = f"run-sheet-{self.day_edit.date().toPyDate().isoformat()}-" \
               f"{self.service_combo.currentData()}.pdf"
        path = ask_save_path(self, "Save the run sheet as PDF", name, "PDF (*.pdf)")
        if path is not None:
            self.save_pdf(path)

    def _print(self) -> None:
        if self.sheet is None:
            return
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setDocName(f"Run sheet: {self.sheet.title}")
        dialog = QPrintDialog(printer, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            sheet_document(self.sheet).print(printer)
            self._say(f"Sent the run sheet ({self.sheet.summary}) to the printer.", "")

    def _set_ready(self, ready: bool) -> None:
        self.pdf_button.setEnabled(ready)
        self.print_button.setEnabled(ready)

    def _say(self, text: str, kind: str) -> None:
        set_message(self.message, text, kind)
        self.message.setVisible(bool(text))
