"""The connector's change log in Django's admin, read-only: who changed what through Backroom."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from backroom_connect.models import RecordedChange


class _WhenFilter(admin.DateFieldListFilter):
    """Today, the past 7 days, ... (ranges worked out in Python: no zone tables needed)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.title = "when"


@admin.register(RecordedChange)
class RecordedChangeAdmin(admin.ModelAdmin):
    """Every change a Backroom user made, newest first, filtered by what and when, searched by
    who. Nobody adds, edits or deletes a line here: it is the record of what happened. (No
    date drill-down: on MySQL it needs the server's zone tables; the "when" filter does not.)"""

    list_display = ("when", "who", "what", "record", "field", "before", "after")
    list_filter = ("entity", ("at", _WhenFilter))
    search_fields = ("user", "field")
    ordering = ("-at", "-id")
    list_per_page = 100

    @admin.display(description="when", ordering="at")
    def when(self, change: RecordedChange) -> Any:
        return change.at

    @admin.display(description="who", ordering="user")
    def who(self, change: RecordedChange) -> str:
        return change.user

    @admin.display(description="what", ordering="entity")
    def what(self, change: RecordedChange) -> str:
        return change.entity

    @admin.display(description="record", ordering="record_id")
    def record(self, change: RecordedChange) -> Any:
        """The record's number, a link to it where the site's admin shows its model."""
        from backroom_connect.views import connector

        mapping = connector()[1].get(change.entity)
        model = getattr(mapping, "model", None)
        if model is None or not self.admin_site.is_registered(model):
            return change.record_id
        meta = model._meta
        try:
            url = reverse(f"{self.admin_site.name}:{meta.app_label}_{meta.model_name}_change",
                          args=[change.record_id])
        except NoReverseMatch:
            return change.record_id
        return format_html('<a href="{}">{}</a>', url, change.record_id)

    @admin.display(description="from")
    def before(self, change: RecordedChange) -> str | None:
        return change.old_value

    @admin.display(description="to")
    def after(self, change: RecordedChange) -> str | None:
        return change.new_value

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False
