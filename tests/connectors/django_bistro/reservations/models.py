"""A reservation as this restaurant's site keeps it, and the tables it is kept at."""

from django.db import models


class Reservation(models.Model):
    STATES = [("C", "Confirmed"), ("S", "Seated"), ("X", "Cancelled"), ("N", "No-show")]

    time = models.DateTimeField(db_index=True)
    name = models.CharField(max_length=120)
    covers = models.PositiveSmallIntegerField()
    phone = models.CharField(max_length=40, blank=True)
    table_no = models.PositiveSmallIntegerField(null=True, blank=True)
    notes = models.TextField(blank=True)
    state = models.CharField(max_length=1, choices=STATES, default="C")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name} at {self.time:%Y-%m-%d %H:%M}"


class DiningTable(models.Model):
    number = models.PositiveSmallIntegerField(unique=True)
    label = models.CharField(max_length=20)
    seats = models.PositiveSmallIntegerField()
    room = models.CharField(max_length=40, blank=True)

    def __str__(self) -> str:
        return f"{self.label} ({self.seats})"


class WaitingParty(models.Model):
    """A party waiting at the door for a table (the site's own waitlist)."""

    STATES = [("W", "Waiting"), ("S", "Seated"), ("G", "Gone")]

    guest = models.CharField(max_length=120)
    mobile = models.CharField(max_length=40, blank=True)
    people = models.PositiveSmallIntegerField()
    quoted = models.PositiveSmallIntegerField(default=15)
    joined = models.DateTimeField()
    state = models.CharField(max_length=1, choices=STATES, default="W")
    seated = models.DateTimeField(null=True, blank=True)
    left = models.DateTimeField(null=True, blank=True)
    reservation = models.ForeignKey(Reservation, null=True, blank=True,
                                    on_delete=models.SET_NULL)

    def __str__(self) -> str:
        return f"{self.guest} ({self.people})"
