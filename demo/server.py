"""Serving a WSGI app with waitress on 127.0.0.1 in named threads, with a clean stop."""

from __future__ import annotations

import logging
import socket
import threading
from typing import Any

from waitress.server import create_server
from waitress.task import ThreadedTaskDispatcher

log = logging.getLogger(__name__)


class _NamedDispatcher(ThreadedTaskDispatcher):
    """waitress's request threads, named after the shop's server thread."""

    def __init__(self, prefix: str) -> None:
        super().__init__()
        self._prefix = prefix

    def start_new_thread(self, target: Any, thread_no: int) -> None:
        thread = threading.Thread(target=target, name=f"{self._prefix}-{thread_no}",
                                  args=(thread_no,), daemon=True)
        thread.start()


def _quiet_waitress_queue_log() -> None:
    """waitress warns "Task queue depth is N" for every short burst; keep only its errors
    unless the application configured that logger itself."""
    queue_log = logging.getLogger("waitress.queue")
    if queue_log.level == logging.NOTSET:
        queue_log.setLevel(logging.ERROR)


class WsgiServer:
    """A waitress server bound at construction (port 0 picks a free one), or serving a
    listening socket bound before (``sock``)."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0, threads: int = 6,
                 name: str = "demo-http", sock: socket.socket | None = None) -> None:
        _quiet_waitress_queue_log()
        self._dispatcher = _NamedDispatcher(f"{name}-worker")
        where: dict[str, Any] = {"sockets": [sock]} if sock is not None else {
            "host": host, "port": port}
        self._server: Any = create_server(
            app, threads=threads, _dispatcher=self._dispatcher,
            ident="backroom-demo", clear_untrusted_proxy_headers=True, channel_timeout=30,
            connection_limit=200, asyncore_loop_timeout=1, **where)
        self._dispatcher.set_thread_count(threads)  # only once the port is ours
        self.host = host
        self.port = int(self._server.effective_port)
        # A daemon, like waitress's request threads: a stop that went wrong must not also
        # keep the process from exiting.
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._stopped = threading.Event()

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        try:
            self._server.run()
        except Exception:
            if not self._stopped.is_set():
                log.exception("demo HTTP server stopped unexpectedly")

    def stop(self, timeout: float = 5.0) -> None:
        """Close every connection and the listening socket in the server's own thread, then
        stop the request threads; returns when the port is free."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        server = self._server
        done = threading.Event()

        def close_all() -> None:
            try:
                for channel in list(server._map.values()):
                    if channel is not server and channel is not server.trigger:
                        channel.close()
                server.close()  # the trigger and the listening socket
            finally:
                done.set()

        if self._thread.is_alive():
            try:
                server.trigger.pull_trigger(close_all)
            except OSError as err:
                # The trigger's pipe is gone (closed under the server): close from here; the
                # server's select then fails on the closed descriptors and its loop ends.
                log.warning("demo HTTP server: could not wake its thread (%s); closing here", err)
                close_all()
            self._thread.join(timeout)
        if not done.is_set():
            close_all()
        self._dispatcher.shutdown(cancel_pending=True, timeout=timeout)
        if self._thread.is_alive():
            log.error("demo HTTP server thread did not stop within %.1f s", timeout)
