"""What the shop pages say: no back end, a failure in a sentence, how many rows."""

from __future__ import annotations

from console.shop import (
    BackendUnavailable,
    Conflict,
    NotFound,
    RowCount,
    Unsupported,
    ValidationFailed,
)

NO_BACKEND = "This profile has no back end or database: add one in Settings."


def unreachable_text(location: str, reason: str) -> str:
    return (f"Could not reach the shop at {location}: {reason.rstrip('.')}. "
            "Check the connection and press F5.")


def error_text(exc: BaseException, location: str) -> str:
    """What happened and what to try, in a sentence or two."""
    if isinstance(exc, BackendUnavailable):
        return unreachable_text(location, exc.message)
    if isinstance(exc, ValidationFailed):
        return f"The shop refused this: {'; '.join(exc.errors.values())}"
    if isinstance(exc, Unsupported):
        return str(exc)
    if isinstance(exc, NotFound):
        return ("That record is no longer there (someone may have deleted it). "
                "Press F5 to reload the list.")
    if isinstance(exc, Conflict):
        return "Someone else changed this record after you opened it."
    return (f"Something went wrong: {exc or type(exc).__name__}. Press F5 to try again; if it "
            "keeps happening, send the log file to support.")


def count_text(count: RowCount | None, noun: str, plural: str | None = None) -> str:
    """'1 booking', '1,204 bookings', 'about 1,000,000 bookings'."""
    if count is None:
        return "Loading…"
    plural = plural or noun + "s"
    word = noun if count.value == 1 else plural
    about = "" if count.exact else "about "
    return f"{about}{count.value:,} {word}"
