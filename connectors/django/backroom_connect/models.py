"""The connector's own table: every change made through it (who, when, which field, from, to)."""

from __future__ import annotations

from django.db import models


class RecordedChange(models.Model):
    """One field of one record changed through Backroom's connector (the shop's own tables
    are never altered: this is the connector's table, ``backroom_connect_change``)."""

    entity = models.CharField(max_length=20)
    record_id = models.BigIntegerField()
    field = models.CharField(max_length=40)
    old_value = models.TextField(null=True, blank=True)
    new_value = models.TextField(null=True, blank=True)
    user = models.CharField(max_length=120, blank=True)
    at = models.DateTimeField()
    version = models.BigIntegerField(null=True, blank=True)

    class Meta:
        db_table = "backroom_connect_change"
        indexes = [models.Index(fields=["entity", "record_id", "at"],
                                name="backroom_change_record")]

    def __str__(self) -> str:
        return f"{self.entity} {self.record_id} {self.field} by {self.user or '?'}"
