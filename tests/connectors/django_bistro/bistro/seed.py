"""Fill the test site with reservations, dishes and tickets (run after migrate)."""

import json
import os
from datetime import UTC, datetime, timedelta

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bistro.settings")
django.setup()

from kitchen.models import Dish, Ticket, TicketLine  # noqa: E402
from reservations.models import DiningTable, Reservation  # noqa: E402

NAMES = ["Ana Lima", "Tom Berg", "Zoë Müller", "Percy 100% Sure", "Dana O'Hara", "Li Wei",
         "Sam Okafor", "Maria Rossi"]


def main() -> None:
    if Reservation.objects.exists():
        return
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = now.replace(hour=0) + timedelta(days=1)  # tomorrow, so every booking is editable
    rows = []
    per_day = int(os.environ.get("BISTRO_PER_DAY", "40"))  # more for a timing run
    for day in range(3):
        for i in range(per_day):
            at = start + timedelta(days=day, hours=11 + (i % 11), minutes=15 * (i % 4))
            rows.append(Reservation(time=at, name=f"{NAMES[i % len(NAMES)]} {day}-{i}",
                                    covers=1 + i % 6, phone=f"+44 7700 900{i:03d}",
                                    table_no=1 + i % 20, notes="window" if i % 5 == 0 else "",
                                    state="C"))
    Reservation.objects.bulk_create(rows, batch_size=5000)
    DiningTable.objects.bulk_create(
        DiningTable(number=n, label=f"{'W' if n <= 12 else 'B'}{n}", seats=2 + 2 * (n % 3),
                    room="Window" if n <= 12 else "Bar") for n in range(1, 21))
    for i in range(30):
        Dish.objects.create(code=f"D-{i:03d}", title=f"Dish {i}", section="Mains" if i % 2
                            else "Starters", price_pence=500 + 50 * i, portions_left=i,
                            reorder_at=5, on_menu=i != 7)
    _edited_in_the_admin(Reservation.objects.order_by("pk").first())
    _owner()
    for i in range(25):
        Ticket.objects.create(guest=NAMES[i % len(NAMES)], opened=now - timedelta(minutes=7 * i),
                              stage="open" if i % 3 else "paid", bill_pence=1000 + i, dishes=2)
    _past_days(now.replace(hour=0), list(Dish.objects.order_by("pk")))


def _past_days(midnight: datetime, dishes: list[Dish]) -> None:
    """Three days before today: kept, missed and cancelled reservations, and tickets with
    their dishes (one line without a dish) in every stage, for Backroom's day report."""
    stages = ["served", "paid", "void", "refund", "cooking", "open"]
    for day in range(1, 4):
        at = midnight - timedelta(days=day)
        Reservation.objects.bulk_create(
            Reservation(time=at + timedelta(hours=12 + i % 9, minutes=30 * (i % 2)),
                        name=f"Past {day}-{i}", covers=1 + (i * day) % 7,
                        state="CNX"[i % 3], phone="", notes="") for i in range(5 + day))
        for i in range(4 + day):
            ticket = Ticket.objects.create(guest=NAMES[i % len(NAMES)],
                                           opened=at + timedelta(hours=11 + 2 * i % 12),
                                           stage=stages[(i + day) % len(stages)],
                                           bill_pence=900 + 100 * i, dishes=3)
            TicketLine.objects.bulk_create([
                TicketLine(ticket=ticket, dish=dishes[(i + day) % len(dishes)], qty=2,
                           price_pence=dishes[(i + day) % len(dishes)].price_pence),
                TicketLine(ticket=ticket, dish=dishes[(3 * i + 1) % len(dishes)], qty=1,
                           price_pence=725),
                TicketLine(ticket=ticket, dish=None, qty=1, price_pence=150 + i)])


def _owner() -> None:
    """The site's owner, who signs in to Django's admin (password: BISTRO_ADMIN_PASSWORD)."""
    from django.contrib.auth.models import User

    password = os.environ.get("BISTRO_ADMIN_PASSWORD")
    if password:
        User.objects.create_superuser("owner", "owner@bistro.test", password)


def _edited_in_the_admin(reservation: Reservation | None) -> None:
    """What Django's admin writes when a manager adds, then edits a reservation there."""
    from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
    from django.contrib.auth.models import User
    from django.contrib.contenttypes.models import ContentType

    if reservation is None:
        return
    chef = User.objects.create_user("chef.anna", password=None)
    kind = ContentType.objects.get_for_model(Reservation)
    for flag, message in ((ADDITION, [{"added": {}}]),
                          (CHANGE, [{"changed": {"fields": ["Covers", "Notes"]}}])):
        LogEntry.objects.create(user=chef, content_type=kind, object_id=str(reservation.pk),
                                object_repr=str(reservation)[:200], action_flag=flag,
                                change_message=json.dumps(message))


if __name__ == "__main__":
    main()
