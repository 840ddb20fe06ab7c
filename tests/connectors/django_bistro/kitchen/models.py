"""Dishes and tickets as this restaurant's site keeps them."""

from django.db import models


class Dish(models.Model):
    code = models.CharField(max_length=20, unique=True)
    title = models.CharField(max_length=120)
    section = models.CharField(max_length=60)
    price_pence = models.PositiveIntegerField()
    portions_left = models.IntegerField(default=0)
    reorder_at = models.IntegerField(default=5)
    on_menu = models.BooleanField(default=True)
    revision = models.PositiveIntegerField(default=1)

    def __str__(self) -> str:
        return self.title


class Ticket(models.Model):
    guest = models.CharField(max_length=120)
    opened = models.DateTimeField(db_index=True)
    stage = models.CharField(max_length=10, default="open")
    bill_pence = models.PositiveIntegerField(default=0)
    dishes = models.PositiveSmallIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.guest} {self.opened:%H:%M}"


class TicketLine(models.Model):
    """A dish on a ticket, at the price it was sold at."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="lines")
    dish = models.ForeignKey(Dish, null=True, blank=True, on_delete=models.SET_NULL)
    qty = models.PositiveSmallIntegerField(default=1)
    price_pence = models.PositiveIntegerField()
