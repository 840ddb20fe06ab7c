"""The demo shop's scenario switches and event log over HTTP (/admin/scenario, /admin/events)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

#: Switches ``POST /admin/scenario`` accepts, with the Python type each must have.
SWITCHES: dict[str, tuple[type, ...]] = {
    "cache": (bool,),
    "booking_time_index": (bool,),
    "workers": (int,),
    "slow_endpoint": (str, type(None)),
    "slow_ms": (int,),
    "traffic_rate": (int, float),
    "error_ratio": (int, float),
}


class DemoControlError(Exception):
    """The demo shop refused or did not answer; the message says what to try.

    ``fields`` holds the shop's per-field messages for a 422.
    """

    def __init__(self, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.fields = dict(fields or {})


@dataclass(frozen=True, slots=True)
class DemoScenario:
    """The demo shop's switches as ``GET /admin/scenario`` shows them."""

    cache: bool
    booking_time_index: bool
    workers: int
    slow_endpoint: str | None
    slow_ms: int
    traffic_rate: float
    error_ratio: float = 0.0  # share of API requests answered 503 (the back-end-errors switch)

    @staticmethod
    def from_json(body: Any) -> DemoScenario:
        if not isinstance(body, dict):
            raise DemoControlError("the demo shop answered something that is not a scenario")
        try:
            return DemoScenario(
                cache=bool(body["cache"]),
                booking_time_index=bool(body["booking_time_index"]),
                workers=int(body["workers"]),
                slow_endpoint=body.get("slow_endpoint") or None,
                slow_ms=int(body.get("slow_ms") or 0),
                traffic_rate=float(body.get("traffic_rate") or 0.0),
                error_ratio=float(body.get("error_ratio") or 0.0),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DemoControlError(f"the demo shop's scenario lacks {exc}") from None


@dataclass(frozen=True, slots=True)
class DemoEvent:
    """One scenario change (or 'demo started'): ``ts`` UTC epoch seconds."""

    ts: float
    what: str


class DemoControl:
    """Talks to the demo's admin endpoints; blocking, so call it off the GUI thread.

    ``session`` is passed in (one per caller, closed by the caller); every call is bounded
    by ``timeout_s``.
    """

    def __init__(self, base_url: str, token: str, session: requests.Session,
                 timeout_s: float = 3.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._session = session
        self.timeout_s = timeout_s

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        url = f"{self.base_url}{path}"
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
        try:
            response = self._session.request(method, url, headers=headers,
                                             timeout=self.timeout_s, **kwargs)
        except requests.Timeout:
            raise DemoControlError(
                f"the demo shop did not answer within {self.timeout_s:g} s") from None
        except requests.ConnectionError:
            raise DemoControlError(
                f"cannot reach the demo shop at {self.base_url}: is it still running?") from None
        except requests.RequestException as exc:
            raise DemoControlError(f"request to the demo shop failed: {exc}") from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code == 401:
            raise DemoControlError("the demo shop refused the token (401)")
        if response.status_code == 422 and isinstance(body, dict):
            errors = body.get("errors") or {}
            detail = "; ".join(f"{k}: {v}" for k, v in errors.items())
            raise DemoControlError(f"the demo shop rejected the change: {detail}",
                                   {str(k): str(v) for k, v in errors.items()})
        if response.status_code >= 400:
            reason = body.get("error") if isinstance(body, dict) else response.reason
            raise DemoControlError(f"the demo shop answered {response.status_code}: {reason}")
        return body

    def scenario(self) -> DemoScenario:
        """The current switches."""
        return DemoScenario.from_json(self._call("GET", "/admin/scenario"))

    def set_scenario(self, **changes: Any) -> DemoScenario:
        """Change some switches (``cache=False``, ``workers=0``...); returns the new scenario."""
        for key, value in changes.items():
            kinds = SWITCHES.get(key)
            if kinds is None:
                raise DemoControlError(f"the demo shop has no switch named {key!r}",
                                       {key: "unknown switch"})
            if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
                raise DemoControlError(f"{key} has the wrong type: {value!r}",
                                       {key: "wrong type"})
        return DemoScenario.from_json(self._call("POST", "/admin/scenario", json=changes))

    def events(self, since_ts: float | None = None) -> list[DemoEvent]:
        """Scenario changes after ``since_ts`` (all the shop keeps if None), oldest first."""
        params = {} if since_ts is None else {"since": f"{since_ts:.6f}"}
        body = self._call("GET", "/admin/events", params=params)
        if not isinstance(body, list):
            raise DemoControlError("the demo shop's event list is not a list")
        events = []
        for item in body:
            if isinstance(item, dict) and "ts" in item:
                try:
                    events.append(DemoEvent(float(item["ts"]), str(item.get("what", ""))))
                except (TypeError, ValueError):
                    continue
        events.sort(key=lambda e: e.ts)
        return events


def control_for_profile(profile: Any, session: requests.Session,
                        timeout_s: float = 3.0) -> DemoControl | None:
    """The demo control of a profile's back end (its base URL and token), None without one.

    Resolving the token may ask the OS keychain, so call this off the GUI thread too.
    """
    backend = getattr(profile, "backend", None)
    if backend is None or not getattr(backend, "base_url", ""):
        return None
    token: Any = getattr(backend, "token", "")
    if not isinstance(token, str):
        from services.local.secrets import resolve_secret

        token = resolve_secret(token)
    return DemoControl(str(backend.base_url), token, session, timeout_s)
