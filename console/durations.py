"""How long something lasted, in the words an operator reads: '59 s', '1 min 30 s', '2 h'."""

from __future__ import annotations


def format_duration(seconds: float) -> str:
    """'30 s', '2 min 5 s', '1 h 3 min': whole seconds under an hour, whole minutes above.

    The duration is rounded to the second first, so 59.6 s reads '1 min' (not '60 s') and
    3599.6 s '1 h' (not '60 min'); above an hour the seconds are dropped (3659 s is '1 h').
    The sign is the caller's to say ('earlier', 'later'): -30 reads '30 s'.
    """
    total = round(abs(float(seconds)))
    if total < 60:
        return f"{total} s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"
