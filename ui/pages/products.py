"""The Products page: search, category, low stock at a glance; edit price and stock, restock."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

from PyQt6.QtCore import QModelIndex, Qt, QTimer, pyqtSignal
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from console.shop import (
    CATEGORY_MAX,
    NAME_MAX,
    RESTOCK_MAX,
    SEARCH_MAX,
    BackendUnavailable,
    Conflict,
    NotFound,
    Product,
    ProductDraft,
    ProductQuery,
    RowCount,
    ValidationFailed,
    validate_product,
    validate_restock,
)
from ui.context import AppContext
from ui.models.formatting import money, stock_state
from ui.models.shop_tables import ProductsTableModel
from ui.pages.shop_common import (
    NO_BACKEND,
    ShopPage,
    TableArea,
    ask_csv_path,
    count_text,
    error_text,
    field_error,
    header_button,
    make_table,
    set_field_error,
    set_primary_enabled,
)
from ui.theme import state_colour
from ui.widgets.conflict_dialog import (
    KEEP_MINE,
    MERGE,
    TAKE_THEIRS,
    ConflictDialog,
    FieldSpec,
    Resolution,
)

log = logging.getLogger(__name__)

ALL_CATEGORIES = "All categories"
FIELDS = (
    FieldSpec("name", "Name"),
    FieldSpec("category", "Category"),
    FieldSpec("price_cents", "Price", money),
    FieldSpec("stock", "Stock"),
    FieldSpec("low_stock_threshold", "Low-stock threshold"),
    FieldSpec("active", "On sale", lambda v: "yes" if v else "no"),
)
SEARCH_DELAY_MS = 300


class ProductForm(QFrame):
    """The side panel: edit a product's name, category, price, stock, threshold; restock."""

    sig_save = pyqtSignal(object)
    """Emitted with the :class:`ProductDraft` when Save is pressed."""
    sig_restock = pyqtSignal(int)
    """Emitted with the quantity to add when Restock is pressed."""
    sig_discard = pyqtSignal()
    """Emitted when the user drops their changes."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.setMinimumWidth(330)
        self.product: Product | None = None
        self.base: ProductDraft | None = None
        self._loading = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 12, 14, 12)
        head = QHBoxLayout()
        self.heading = QLabel("No product selected")
        self.heading.setObjectName("pageTitle")
        self.stock_chip = QLabel()
        self.stock_chip.hide()
        head.addWidget(self.heading, 1)
        head.addWidget(self.stock_chip)
        layout.addLayout(head)
        self.hint = QLabel("Pick a product in the list to change its price or stock.")
        self.hint.setObjectName("muted")
        self.hint.setWordWrap(True)
        layout.addWidget(self.hint)
        self.body = QWidget()
        body = QVBoxLayout(self.body)
        body.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.body)
        form = QFormLayout()
        self.name_edit = QLineEdit()
        self.name_edit.setMaxLength(NAME_MAX + 20)
        self.category_combo = QComboBox()
        self.category_combo.setEditable(True)
        line = self.category_combo.lineEdit()
        if line is not None:
            line.setMaxLength(CATEGORY_MAX + 10)
        self.price_spin = QDoubleSpinBox()
        # Wider than allowed on purpose, so a wrong value gets a sentence, not a silent clamp.
        self.price_spin.setRange(-100_000.0, 10_000_000.0)
        self.price_spin.setDecimals(2)
        self.price_spin.setPrefix("€ ")
        self.price_spin.setSingleStep(0.10)
        self.stock_spin = QSpinBox()
        self.stock_spin.setRange(-1_000_000, 1_000_000_000)
        self.threshold_spin = QSpinBox()
        self.threshold_spin.setRange(-1_000, 1_000_000)
        self.active_check = QCheckBox("On sale")
        self.errors = {name: field_error() for name in (
            "name", "category", "price_cents", "stock", "low_stock_threshold", "active")}
        for label, widget, name in (
                ("Name", self.name_edit, "name"), ("Category", self.category_combo, "category"),
                ("Price", self.price_spin, "price_cents"), ("Stock", self.stock_spin, "stock"),
                ("Low at", self.threshold_spin, "low_stock_threshold"),
                ("", self.active_check, "active")):
            form.addRow(label, widget)
            form.addRow("", self.errors[name])
        body.addLayout(form)
        buttons = QHBoxLayout()
        self.discard_button = QPushButton("Discard changes")
        self.save_button = QPushButton("Save changes")
        self.save_button.setProperty("primary", True)
        buttons.addWidget(self.discard_button)
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        body.addLayout(buttons)
        restock = QHBoxLayout()
        restock.addWidget(QLabel("Restock: add"))
        self.restock_spin = QSpinBox()
        self.restock_spin.setRange(0, RESTOCK_MAX * 10)
        self.restock_spin.setValue(10)
        self.restock_button = QPushButton("Restock")
        self.restock_button.setToolTip("Adds to the stock the shop has now, whoever changed it")
        restock.addWidget(self.restock_spin)
        restock.addWidget(self.restock_button)
        restock.addStretch(1)
        body.addLayout(restock)
        self.restock_error = field_error()
        body.addWidget(self.restock_error)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.hide()
        layout.addWidget(self.message)
        layout.addStretch(1)
        self.save_button.clicked.connect(lambda: self.sig_save.emit(self.draft()))
        self.discard_button.clicked.connect(self.sig_discard.emit)
        self.restock_button.clicked.connect(lambda: self.sig_restock.emit(
            self.restock_spin.value()))
        for signal in (self.name_edit.textChanged, self.category_combo.currentTextChanged,
                       self.price_spin.valueChanged, self.stock_spin.valueChanged,
                       self.threshold_spin.valueChanged, self.active_check.toggled):
            signal.connect(self._changed)
        self.body.hide()

    def set_categories(self, categories: tuple[str, ...]) -> None:
        text = self.category_combo.currentText()
        self._loading = True
        try:
            self.category_combo.clear()
            self.category_combo.addItems(list(categories))
            self.category_combo.setCurrentText(text)
        finally:
            self._loading = False

    def load(self, product: Product) -> None:
        self.product = product
        self.base = product.draft()
        self.fill(self.base)
        self.heading.setText(product.name or product.sku)
        self.hint.setText(f"{product.sku} · version {product.version}")
        state = stock_state(product)
        if state:
            self.stock_chip.setText("Out of stock" if state == "fail" else "Low stock")
            self.stock_chip.setStyleSheet(
                f"background: {state_colour(state)}; border-radius: 9px; padding: 2px 10px; "
                f"color: {'#1d232b' if state == 'warn' else '#ffffff'};")
            self.stock_chip.show()
        else:
            self.stock_chip.hide()
        self.clear_feedback()
        self.body.show()
        self._update_buttons()

    def fill(self, draft: ProductDraft) -> None:
        self._loading = True
        try:
            self.name_edit.setText(draft.name)
            self.category_combo.setCurrentText(draft.category)
            self.price_spin.setValue(draft.price_cents / 100)
            self.stock_spin.setValue(draft.stock)
            self.threshold_spin.setValue(draft.low_stock_threshold)
            self.active_check.setChecked(draft.active)
        finally:
            self._loading = False
        self._update_buttons()

    def draft(self) -> ProductDraft:
        return ProductDraft(name=self.name_edit.text().strip(),
                            category=self.category_combo.currentText().strip(),
                            price_cents=round(self.price_spin.value() * 100),
                            stock=self.stock_spin.value(),
                            low_stock_threshold=self.threshold_spin.value(),
                            active=self.active_check.isChecked())

    def dirty(self) -> bool:
        return self.base is not None and self.draft() != self.base

    def show_errors(self, errors: dict[str, str]) -> None:
        for name, label in self.errors.items():
            set_field_error(label, errors.get(name))
        set_field_error(self.restock_error, errors.get("quantity"))
        rest = {k: v for k, v in errors.items() if k not in self.errors and k != "quantity"}
        if rest:
            self.show_message("; ".join(f"{k}: {v}" for k, v in rest.items()), "fail")
        elif errors:
            self.show_message("Not saved: fix what the messages under the fields say.",
                              "fail")

    def show_message(self, text: str, kind: str = "ok") -> None:
        self.message.setText(text)
        colour = state_colour(kind) if kind in ("fail", "warn") else ""
        self.message.setStyleSheet(f"color: {colour};" if colour else "")
        self.message.setVisible(bool(text))

    def clear_feedback(self) -> None:
        for label in (*self.errors.values(), self.restock_error):
            set_field_error(label, None)
        self.message.hide()

    def set_busy(self, busy: bool) -> None:
        set_primary_enabled(self.save_button, not busy and self.dirty())
        self.restock_button.setEnabled(not busy and not self.dirty())

    def _changed(self) -> None:
        if not self._loading:
            self._update_buttons()

    def _update_buttons(self) -> None:
        dirty = self.dirty()
        set_primary_enabled(self.save_button, dirty)
        self.discard_button.setEnabled(dirty)
        # A restock reloads the product: not while typed changes wait to be saved.
        self.restock_button.setEnabled(not dirty)
        self.restock_button.setToolTip("Save or discard your changes first" if dirty else
                                       "Adds to the stock the shop has now, whoever changed it")


class ProductsPage(ShopPage):
    """Products with search, category and low-stock filters; edit and restock on the right."""

    title = "Products"

    sig_saved = pyqtSignal(object)
    """Emitted with the stored :class:`Product` after an edit or a restock."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.conflict_dialog: ConflictDialog | None = None
        bar = QHBoxLayout()
        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText("Search name or SKU (Ctrl+F)")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.setMaxLength(SEARCH_MAX)
        self.category_combo = QComboBox()
        self.category_combo.addItem(ALL_CATEGORIES)
        self.category_combo.setMinimumWidth(160)
        self.low_check = QCheckBox("Low stock only")
        self.inactive_check = QCheckBox("Show items not on sale")
        self.inactive_check.setChecked(True)
        bar.addWidget(self.search_edit, 1)
        bar.addWidget(self.category_combo)
        bar.addWidget(self.low_check)
        bar.addWidget(self.inactive_check)
        self.outer.addLayout(bar)
        self.export_button = header_button("Export CSV…", self._ask_export,
                                           tooltip="Save every product of this view as CSV")
        self.head.addWidget(self.export_button)

        self.model = ProductsTableModel(ctx.tasks, lambda: self.ctx.shop, self._query(),
                                        parent=self)
        self.table = make_table(self.model, self)
        self.area = TableArea(self.table)
        self.form = ProductForm()
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.area)
        split.addWidget(self.form)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setSizes([900, 380])
        self.outer.addWidget(split, 1)
        self.count_label = QLabel()
        self.count_label.setObjectName("muted")
        self.outer.addWidget(self.count_label)

        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self._apply_filters)
        self.search_edit.textChanged.connect(lambda _t: self._search_timer.start())
        self.search_edit.returnPressed.connect(self._apply_filters)
        self.category_combo.currentIndexChanged.connect(self._apply_filters)
        self.low_check.toggled.connect(self._apply_filters)
        self.inactive_check.toggled.connect(self._apply_filters)
        self.model.sig_count.connect(self._count_changed)
        self.model.sig_failed.connect(self._list_failed)
        self.model.sig_loading.connect(lambda _b: self._update_count_label())
        self.model.modelReset.connect(self._update_count_label)
        selection = self.table.selectionModel()
        assert selection is not None
        selection.currentRowChanged.connect(self._row_changed)
        self.form.sig_save.connect(self.save)
        self.form.sig_restock.connect(self.restock)
        self.form.sig_discard.connect(self._discard)
        self.refresh()

    def refresh(self) -> None:
        self.notice.clear()
        if self.ctx.shop is None:
            self.model.clear()
            self.notice.show_text(NO_BACKEND, "warn")
            self.area.show_empty("No products to show: this profile has no shop back end or "
                                 "database. Add one in Settings.")
            self._update_count_label()
            return
        self.area.show_table()
        self.model.set_query(self._query(), force=True)
        self._load_categories()

    def focus_search(self) -> None:
        self.search_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_edit.selectAll()

    def save(self, draft: ProductDraft) -> None:
        shop, product = self.ctx.shop, self.form.product
        if product is None:
            return
        if shop is None:
            self.form.show_message("Not saved: " + NO_BACKEND, "fail")
            return
        errors = validate_product(draft)
        if errors:
            self.form.show_errors(errors)
            return
        self._save_over(product.id, product.version, draft)

    def restock(self, quantity: int) -> None:
        shop, product = self.ctx.shop, self.form.product
        if shop is None or product is None:
            return
        errors = validate_restock(quantity)
        if errors:
            self.form.show_errors(errors)
            return
        self.form.clear_feedback()
        self.form.set_busy(True)
        self.ctx.tasks.run(lambda _s: shop.restock_product(product.id, quantity),
                           on_success=lambda p: self._saved(
                               p, f"Restocked: {quantity:,} added, {p.stock:,} in stock now."),
                           on_failure=self._save_failed, name="product-restock")

    def export_csv(self, path: Path) -> None:
        if self.ctx.shop is None:
            self.notice.show_text(NO_BACKEND, "warn")
            return
        self.model.export_csv(path, on_done=lambda n: self.count_label.setText(
            f"Exported {n:,} products to {path}"), on_failure=self.show_failure)

    # -- internals ------------------------------------------------------------------------

    def _query(self) -> ProductQuery:
        category = self.category_combo.currentText()
        current = getattr(getattr(self, "model", None), "query", None) or ProductQuery()
        return ProductQuery(search=self.search_edit.text().strip(),
                            category="" if category == ALL_CATEGORIES else category,
                            low_stock_only=self.low_check.isChecked(),
                            include_inactive=self.inactive_check.isChecked(),
                            sort=current.sort, descending=current.descending)

    def _apply_filters(self) -> None:
        self._search_timer.stop()
        if self.ctx.shop is None:
            self.refresh()
            return
        self.notice.clear()
        self.area.show_table()
        self.model.set_query(self._query())

    def _load_categories(self) -> None:
        shop = self.ctx.shop
        if shop is None:
            return

        def loaded(categories: tuple[str, ...]) -> None:
            chosen = self.category_combo.currentText()
            self.category_combo.blockSignals(True)
            try:
                self.category_combo.clear()
                self.category_combo.addItem(ALL_CATEGORIES)
                self.category_combo.addItems(list(categories))
                index = self.category_combo.findText(chosen)
                self.category_combo.setCurrentIndex(max(0, index))
            finally:
                self.category_combo.blockSignals(False)
            self.form.set_categories(categories)

        self.ctx.tasks.run(lambda _s: shop.product_categories(), on_success=loaded,
                           on_failure=lambda _e: None, name="product-categories")

    def _count_changed(self, count: RowCount) -> None:
        self._update_count_label()
        if count.value == 0 and count.exact:
            hints = []
            if self.search_edit.text().strip():
                hints.append("clear the search")
            if self.category_combo.currentIndex() > 0:
                hints.append("choose All categories")
            if self.low_check.isChecked():
                hints.append("untick Low stock only")
            if not self.inactive_check.isChecked():
                hints.append("tick Show items not on sale")
            if self.low_check.isChecked() and len(hints) == 1:
                text = "Nothing is low on stock: every product on sale is above its threshold."
            elif hints:
                tried = (", ".join(hints[:-1]) + " or " if len(hints) > 1 else "") + hints[-1]
                text = f"No products match. To see more, {tried}."
            else:
                text = ("The shop has no products yet. Add them in the shop's own admin, or "
                        "seed a test database with `backroom db seed`.")
            self.area.show_empty(text)
        else:
            self.area.show_table()

    def _update_count_label(self) -> None:
        if self.ctx.shop is None:
            self.count_label.setText("")
            return
        if self.model.error is not None:
            self.count_label.setText("Not loaded")
            return
        text = count_text(self.model.count, "product")
        if self.model.loading and self.model.count is not None:
            text += " · loading…"
        self.count_label.setText(text)

    def _list_failed(self, exc: BaseException) -> None:
        self.show_failure(exc)
        if self.model.rowCount() == 0:
            self.area.show_empty("The products could not be loaded (the message above says "
                                 "why). Press F5 to try again.")

    def _row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        product = self.model.row_object(current.row()) if current.isValid() else None
        if product is None or (self.form.product is not None
                               and self.form.product.id == product.id):
            return
        if self.form.dirty():
            name = self.form.product.name if self.form.product else "this product"
            self.form.show_message(f"You have unsaved changes to {name}: save or discard "
                                   "them first, then pick another product.", "warn")
            return
        self.form.load(product)

    def _discard(self) -> None:
        if self.form.product is not None:
            self.form.load(self.form.product)

    def _save_over(self, product_id: int, version: int, draft: ProductDraft) -> None:
        shop = self.ctx.shop
        self.form.clear_feedback()
        self.form.set_busy(True)
        self.ctx.tasks.run(lambda _s: shop.update_product(product_id, version, draft),
                           on_success=lambda p: self._saved(p, "Saved."),
                           on_failure=self._save_failed, name="product-save")

    def _saved(self, product: Product, message: str) -> None:
        self.form.load(product)
        self.form.show_message(message)
        self.model.replace_row(product)
        self.sig_saved.emit(product)

    def _save_failed(self, exc: BaseException) -> None:
        self.form.set_busy(False)
        self.form._update_buttons()
        if isinstance(exc, Conflict):
            self._conflict(exc)
        elif isinstance(exc, ValidationFailed):
            self.form.show_errors(exc.errors)
        elif isinstance(exc, BackendUnavailable):
            self.show_failure(exc)
            self.form.show_message("Not saved: " + error_text(exc, self.location()) +
                                   " Your changes are still here.", "fail")
        elif isinstance(exc, NotFound):
            self.form.show_message("Not saved: this product is no longer there. Your "
                                   "changes are still in the form.", "fail")
        else:
            log.exception("saving a product failed", exc_info=exc)
            self.form.show_message("Not saved: " + error_text(exc, self.location()), "fail")

    def _conflict(self, conflict: Conflict) -> None:
        theirs: Product = conflict.theirs
        mine: ProductDraft = conflict.mine
        dialog = ConflictDialog(theirs.name or theirs.sku, FIELDS, self.form.base, mine,
                                theirs.draft(), theirs_note=f"Their version is "
                                                            f"{theirs.version}.", parent=self)
        self.conflict_dialog = dialog
        dialog.sig_resolved.connect(lambda r: self._resolved(r, theirs))
        dialog.rejected.connect(lambda: self.form.show_message(
            "Not saved: someone else changed this product. Your changes are still here; "
            "press Save again to compare.", "warn") if dialog.resolution is None else None)
        dialog.open()

    def _resolved(self, resolution: Resolution, theirs: Product) -> None:
        self.conflict_dialog = None
        if resolution.choice == TAKE_THEIRS:
            self.form.load(theirs)
            self.model.replace_row(theirs)
            self.form.show_message("Showing their version; your changes were dropped.")
        elif resolution.choice in (KEEP_MINE, MERGE):
            self.form.load(theirs)
            self.form.fill(resolution.draft)
            self._save_over(theirs.id, theirs.version, resolution.draft)

    def _ask_export(self) -> None:
        path = ask_csv_path(self, f"products-{date.today().isoformat()}.csv")
        if path is not None:
            self.export_csv(path)
