"""A small Flask café of its own (plain SQLAlchemy models) with Backroom's blueprint."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

from backroom_connect_flask import make_blueprint
from flask import Flask
from sqlalchemy import DateTime, ForeignKey, Integer, String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, scoped_session, sessionmaker


class Base(DeclarativeBase):
    pass


class TableBooking(Base):
    """The café's own bookings: no notes column, an integer revision as the version."""

    __tablename__ = "table_bookings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guest: Mapped[str] = mapped_column(String(120))
    arrives: Mapped[datetime] = mapped_column(DateTime, index=True)
    people: Mapped[int] = mapped_column(Integer)
    mobile: Mapped[str | None] = mapped_column(String(40), nullable=True)
    spot: Mapped[int | None] = mapped_column(Integer, nullable=True)
    state: Mapped[str] = mapped_column(String(12), default="booked")
    revision: Mapped[int] = mapped_column(Integer, default=1)


class Cake(Base):
    """The café's cakes: shared read-only (no version column)."""

    __tablename__ = "cakes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    label: Mapped[str] = mapped_column(String(120))
    price: Mapped[int] = mapped_column(Integer)
    slices: Mapped[int] = mapped_column(Integer)
    shelf: Mapped[str | None] = mapped_column(String(40), nullable=True)


class Sale(Base):
    """A till receipt (shared by the read-only blueprint only, for the day report)."""

    __tablename__ = "sales"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    who: Mapped[str] = mapped_column(String(120))
    rung_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    stage: Mapped[str] = mapped_column(String(12))
    total: Mapped[int] = mapped_column(Integer)


class SaleLine(Base):
    __tablename__ = "sale_lines"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sale_id: Mapped[int] = mapped_column(ForeignKey("sales.id"))
    cake_id: Mapped[int | None] = mapped_column(ForeignKey("cakes.id"), nullable=True)
    n: Mapped[int] = mapped_column(Integer)
    each: Mapped[int] = mapped_column(Integer)


class DoorQueue(Base):
    """People waiting at the door; the café keeps no link to the booking they became."""

    __tablename__ = "door_queue"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    who: Mapped[str] = mapped_column(String(120))
    mobile: Mapped[str | None] = mapped_column(String(40), nullable=True)
    people: Mapped[int] = mapped_column(Integer)
    quote: Mapped[int] = mapped_column(Integer)
    since: Mapped[datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(8), default="queued")
    seated: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    gone: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


def settings(token: str) -> dict[str, Any]:
    return {
        "token": token,
        "bookings": {
            "model": TableBooking,
            "fields": {"start_at": "arrives", "guest_name": "guest", "party_size": "people",
                       "phone": "mobile", "table": "spot", "status": "state"},
            "status_values": {"confirmed": "booked", "seated": "in", "cancelled": "off",
                              "no_show": "noshow"},
            "version": "revision",
        },
        "products": {"model": "cafe:Cake",
                     "fields": {"name": "label", "price_cents": "price", "stock": "slices"}},
        "waitlist": {"model": DoorQueue,
                     "fields": {"name": "who", "phone": "mobile", "covers": "people",
                                "quoted_minutes": "quote", "added_at": "since",
                                "state": "status", "seated_at": "seated",
                                "removed_at": "gone"},
                     "status_values": {"waiting": "queued", "seated": "sat",
                                       "removed": "left"}},
    }


def create_app() -> Flask:
    """The café; CAFE_ORM=flask-sqlalchemy gives the blueprint Flask-SQLAlchemy's db.session."""
    app = Flask(__name__)
    session: Any
    if os.environ.get("CAFE_ORM") == "flask-sqlalchemy":
        from flask_sqlalchemy import SQLAlchemy

        db = SQLAlchemy(model_class=Base)
        app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["CAFE_DB"]
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = _engine_options()
        db.init_app(app)
        with app.app_context():
            db.create_all()
            seed(db.session)
        session = db.session
    else:
        engine = create_engine(os.environ["CAFE_DB"], pool_pre_ping=True, **_engine_options())
        Base.metadata.create_all(engine)
        session = scoped_session(sessionmaker(engine, expire_on_commit=False))
        seed(session)
        app.teardown_appcontext(lambda _exc: session.remove())
    token = os.environ["BACKROOM_TOKEN"]
    app.register_blueprint(make_blueprint(settings(token), session), url_prefix="/backroom")
    # the same bookings shared without a version field: read-only in the console
    read_only = settings(token)
    del read_only["bookings"]["version"]
    del read_only["waitlist"]  # and no waitlist: the console says so
    # but the till: sales and their lines by the cakes' shelf, for the day report
    read_only["products"]["fields"]["category"] = "shelf"
    read_only["orders"] = {
        "model": Sale,
        "fields": {"customer_name": "who", "placed_at": "rung_at", "status": "stage",
                   "total_cents": "total"},
        "status_values": {"paid": "paid", "completed": "done", "refunded": "back",
                          "cancelled": "void"}}
    read_only["order_lines"] = {
        "model": SaleLine,
        "fields": {"order": "sale_id", "product": "cake_id", "quantity": "n",
                   "unit_price_cents": "each"}}
    app.register_blueprint(make_blueprint(read_only, session, name="backroom_read_only"),
                           url_prefix="/backroom-read-only")
    return app


def _engine_options() -> dict[str, Any]:
    """On PostgreSQL the café's sessions run in India's time (a server set up abroad): the
    connector must still count its days in UTC."""
    if os.environ["CAFE_DB"].startswith("postgresql"):
        return {"connect_args": {"options": "-c timezone=Asia/Kolkata"}}
    return {}


def seed(session: Any) -> None:
    with session() as s:
        if s.query(TableBooking).first() is not None:
            return
        start = datetime.now(UTC).replace(tzinfo=None, hour=0, minute=0, second=0,
                                          microsecond=0) + timedelta(days=1)
        for i in range(60):
            s.add(TableBooking(guest=f"Guest {i:02d}", arrives=start + timedelta(
                hours=9 + i % 8, minutes=10 * (i % 6)), people=1 + i % 4,
                mobile=f"07700 900{i:03d}", spot=1 + i % 12, state="booked"))
        cakes = [Cake(label=f"Cake {i}", price=300 + 25 * i, slices=i,
                      shelf=None if i == 5 else ("Tarts", "Sponges")[i % 2]) for i in range(8)]
        s.add_all(cakes)
        s.flush()
        for day in range(1, 4):
            for i in range(3 + day):
                at = start - timedelta(days=day + 1, hours=-(8 + 3 * i))  # to 23:00
                lines = [SaleLine(cake_id=cakes[(i + day) % 8].id, n=1 + i % 3,
                                  each=cakes[(i + day) % 8].price),
                         SaleLine(cake_id=None, n=1, each=250)]
                sale = Sale(who=f"Guest {i:02d}", rung_at=at.replace(tzinfo=UTC),
                            stage=("paid", "done", "back", "void")[(i + day) % 4],
                            total=sum(x.n * x.each for x in lines))
                s.add(sale)
                s.flush()
                for line in lines:
                    line.sale_id = sale.id
                s.add_all(lines)
        s.commit()
