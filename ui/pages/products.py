"""The Products page: search, category, low stock at a glance; edit price and stock, restock."""

from __future__ import annotations

from PyQt6.QtCore import QModelIndex, pyqtSignal
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
    QWidget,
)

from console.shop import Product, ProductDraft, ProductQuery
from console.shop_access import EntityAccess
from console.shop_map import version_words
from console.shop_rules import (
    CATEGORY_MAX,
    NAME_MAX,
    RESTOCK_MAX,
    validate_product,
    validate_restock,
)
from ui.context import AppContext
from ui.models.formatting import money, stock_state
from ui.models.shop_tables import ProductsTableModel
from ui.pages.shop_access import grey_fixed_fields
from ui.pages.shop_form_page import ShopFormPage
from ui.pages.shop_texts import NO_BACKEND
from ui.pages.shop_widgets import (
    card_layout,
    field_error,
    message_label,
    panel_body,
    panel_head,
    save_discard_row,
    search_box,
    set_field_error,
    set_message,
    set_primary_enabled,
    show_chip,
    show_field_errors,
)
from ui.plain_text import isolated, plain_tooltip, set_plain_text
from ui.widgets.conflict_dialog import FieldSpec

ALL_CATEGORIES = "All categories"
FIELDS = (
    FieldSpec("name", "Name"),
    FieldSpec("category", "Category"),
    FieldSpec("price_cents", "Price", money),
    FieldSpec("stock", "Stock"),
    FieldSpec("low_stock_threshold", "Low-stock threshold"),
    FieldSpec("active", "On sale", lambda v: "yes" if v else "no"),
)


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
        """Why nothing can be saved here (the shop's table has no version column), or None."""
        layout = card_layout(self, 330)
        self.product: Product | None = None
        self.base: ProductDraft | None = None
        self._loading = False
        self.access = EntityAccess()
        self.heading, self.stock_chip, self.hint = panel_head(
            layout, "No product selected",
            "Pick a product in the list to change its price or stock.")
        self.body, body = panel_body(layout)
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
        buttons, self.save_button, self.discard_button = save_discard_row()
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
        self.message = message_label()
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
        set_plain_text(self.heading, product.name or product.sku)
        words = (isolated(product.sku), version_words(product.version, product.updated_at))
        set_plain_text(self.hint, " · ".join(w for w in words if w))
        state = stock_state(product)
        if state:
            show_chip(self.stock_chip, "Out of stock" if state == "fail" else "Low stock", state)
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
        text = show_field_errors({**self.errors, "quantity": self.restock_error}, errors)
        if text:
            self.show_message(text, "fail")

    def show_message(self, text: str, kind: str = "ok") -> None:
        set_message(self.message, text, kind)
        self.message.setVisible(bool(text))

    def clear_feedback(self) -> None:
        for label in (*self.errors.values(), self.restock_error):
            set_field_error(label, None)
        self.message.hide()

    def set_access(self, access: EntityAccess) -> None:
        """What the shop lets us change: the rest is greyed with the reason."""
        self.access = access
        grey_fixed_fields({"name": self.name_edit, "category": self.category_combo,
                           "price_cents": self.price_spin, "stock": self.stock_spin,
                           "low_stock_threshold": self.threshold_spin,
                           "active": self.active_check}, access)
        self._update_buttons()

    def set_busy(self, busy: bool) -> None:
        """While a save runs nothing else can be pressed; after it, what fits the form."""
        if not busy:
            self._update_buttons()
            return
        set_primary_enabled(self.save_button, False)
        self.restock_button.setEnabled(False)

    def _changed(self) -> None:
        if not self._loading:
            self._update_buttons()

    def _update_buttons(self) -> None:
        dirty = self.dirty()
        set_primary_enabled(self.save_button, dirty and self.access.writable)
        self.discard_button.setEnabled(dirty)
        # A restock reloads the product: not while typed changes wait to be saved.
        can_restock = self.access.can_edit("stock")
        self.restock_button.setEnabled(not dirty and can_restock)
        self.restock_button.setToolTip(
            plain_tooltip(self.access.why_not("stock")) if not can_restock else
            "Save or discard your changes first" if dirty else
            "Adds to the stock the shop has now, whoever changed it")
        self.save_button.setToolTip("" if self.access.writable else
                                    plain_tooltip(self.access.why_read_only))


class ProductsPage(ShopFormPage[Product, ProductQuery]):
    """Products with search, category and low-stock filters; edit and restock on the right."""

    title = "Products"
    noun = "product"
    entity = "products"
    field_columns = {"sku": 0, "category": 2, "price_cents": 3, "stock": 4,
                     "low_stock_threshold": 5, "active": 6}
    conflict_fields = FIELDS
    gone_text = ("Not saved: this product is no longer there. Your changes are still in the "
                 "form.")

    sig_saved = pyqtSignal(object)
    """Emitted with the stored :class:`Product` after an edit or a restock."""

    form: ProductForm

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        bar = QHBoxLayout()
        self.search_edit = search_box("Search name or SKU (Ctrl+F)")
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
        self.add_export_button()

        self.form = ProductForm()
        self.add_list(ProductsTableModel(ctx.tasks, lambda: self.ctx.shop, self._query(),
                                         parent=self),
                      self.form, panel_stretch=1, sizes=(900, 380))
        self.category_combo.currentIndexChanged.connect(self._apply_filters)
        self.low_check.toggled.connect(self._apply_filters)
        self.inactive_check.toggled.connect(self._apply_filters)
        self.form.sig_save.connect(self.save)
        self.form.sig_restock.connect(self.restock)
        self.form.sig_discard.connect(self._discard)
        self.refresh()

    def apply_access(self, shared: EntityAccess) -> None:
        self.form.set_access(shared)

    def refresh(self) -> None:
        """F5: list again with the same filters, and read the categories again."""
        self.form._update_buttons()
        super().refresh()
        self._load_categories()  # does nothing without a back end

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
        self._run_save(lambda _s: shop.restock_product(product.id, quantity),
                       lambda p: self._saved(
                           p, f"Restocked: {quantity:,} added, {p.stock:,} in stock now."),
                       "product-restock")

    # -- internals ------------------------------------------------------------------------

    def _query(self) -> ProductQuery:
        category = self.category_combo.currentText()
        current = getattr(getattr(self, "model", None), "query", None) or ProductQuery()
        return ProductQuery(search=self.search_edit.text().strip(),
                            category="" if category == ALL_CATEGORIES else category,
                            low_stock_only=self.low_check.isChecked(),
                            include_inactive=self.inactive_check.isChecked(),
                            sort=current.sort, descending=current.descending)

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

        self.ctx.tasks.run(lambda _s: shop.product_categories(), owner=self, on_success=loaded,
                           on_failure=lambda _e: None, name="product-categories")

    def _describe_view(self) -> str:
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
            return "Nothing is low on stock: every product on sale is above its threshold."
        if hints:
            tried = (", ".join(hints[:-1]) + " or " if len(hints) > 1 else "") + hints[-1]
            return f"No products match. To see more, {tried}."
        return ("The shop has no products yet. Add them in the shop's own admin, or seed a "
                "test database with `backroom db seed`.")

    def _shown_record_id(self) -> int | None:
        return self.form.product.id if self.form.product is not None else None

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
        self._run_save(lambda _s: shop.update_product(product_id, version, draft), self._saved,
                       "product-save")

    def _conflict_heading(self, theirs: Product) -> tuple[str, str]:
        return theirs.name or theirs.sku, f"{theirs.stock:,} in stock now."
