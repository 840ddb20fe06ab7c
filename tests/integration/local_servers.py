"""Small real servers the collector tests start themselves: HTTP with known delays, a socket
that never answers, and server binaries (memcached, redis-server, prometheus) on free ports."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests import servers

Handler = Callable[[BaseHTTPRequestHandler], None]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so pooled sessions reuse connections
    disable_nagle_algorithm = True  # headers and body go out without a 40 ms delayed-ACK stall
    routes: dict[str, Handler] = {}

    def do_GET(self) -> None:
        route = self.routes.get(self.path.split("?")[0])
        if route is None:
            self.send_error(404)
            return
        route(self)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


def reply(status: int = 200, body: bytes = b"ok", delay_s: float = 0.0,
          content_type: str = "text/plain") -> Handler:
    """A route that waits ``delay_s`` then answers."""

    def handle(request: BaseHTTPRequestHandler) -> None:
        if delay_s:
            time.sleep(delay_s)
        request.send_response(status)
        request.send_header("Content-Type", content_type)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    return handle


@contextmanager
def http_server(routes: dict[str, Handler], *, tls: tuple[str, str] | None = None
                ) -> Iterator[str]:
    """A threaded HTTP(S) server on 127.0.0.1 with the given routes; yields its base URL."""
    handler = type("Routes", (_Handler,), {"routes": routes})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    scheme = "http"
    if tls is not None:
        import ssl

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*tls)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    with serving(server) as port:
        yield f"{scheme}://127.0.0.1:{port}"


@contextmanager
def serving(server: ThreadingHTTPServer) -> Iterator[int]:
    """``server`` answering on a thread of its own while the block runs; yields its port."""
    thread = threading.Thread(target=server.serve_forever, name="test-http", daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def silent_server() -> Iterator[str]:
    """Accepts TCP connections and never sends a byte; yields ``http://127.0.0.1:PORT``."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(50)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
                held.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept, name="test-silent", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in held:
            conn.close()
        listener.close()


def binary(name: str, path: str) -> str:
    """The server binary, or skip (fail under CI) naming the Debian package."""
    found = path if os.path.exists(path) else shutil.which(name)
    if not found:
        servers.missing(f"{name} is not installed (apt-get install -y {name})")
    assert found is not None
    return found


def wait_port(port: int, process: subprocess.Popen[bytes], what: str,
              timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        if servers.port_open("127.0.0.1", port, timeout=0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {port} within {timeout_s} s")


@contextmanager
def process_on_port(command: list[str], port: int, what: str, cwd: Path | None = None,
                    timeout_s: float = 15.0, env: dict[str, str] | None = None
                    ) -> Iterator[subprocess.Popen[bytes]]:
    """Start a server process, wait until it listens on ``port``, stop it afterwards."""
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, env=env)
    try:
        wait_port(port, process, what, timeout_s)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@contextmanager
def memcached() -> Iterator[str]:
    """A private memcached; yields ``127.0.0.1:PORT``."""
    exe = binary("memcached", "/usr/bin/memcached")
    port = servers.free_port()
    command = [exe, "-l", "127.0.0.1", "-p", str(port), "-U", "0", "-m", "16"]
    if os.geteuid() == 0:
        command += ["-u", "root"]
    with process_on_port(command, port, "memcached"):
        yield f"127.0.0.1:{port}"


@contextmanager
def redis_server(tmp_path: Path) -> Iterator[str]:
    """A private redis-server (so its hit/miss counters are ours alone); yields its URL."""
    exe = binary("redis-server", "/usr/bin/redis-server")
    port = servers.free_port()
    command = [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no", "--dir", str(tmp_path)]
    with process_on_port(command, port, "redis-server", cwd=tmp_path):
        yield f"redis://127.0.0.1:{port}/0"


@contextmanager
def mariadb_server(tmp_path: Path, *options: str) -> Iterator[str]:
    """A private MariaDB server with ``options`` (e.g. performance_schema off, which the
    machine's server has on); yields the URL of its ``mysql`` database as root."""
    exe = binary("mariadbd", "/usr/sbin/mariadbd")
    install = binary("mariadb-install-db", "/usr/bin/mariadb-install-db")
    data = tmp_path / "mariadb-data"
    user = ["--user=root"] if os.geteuid() == 0 else []
    subprocess.run([install, "--no-defaults", f"--datadir={data}", "--skip-test-db",
                    "--auth-root-authentication-method=normal", *user],
                   check=True, capture_output=True, timeout=60)
    port = servers.free_port()
    command = [exe, "--no-defaults", f"--datadir={data}", f"--port={port}",
               "--bind-address=127.0.0.1", f"--socket={tmp_path / 'mariadb.sock'}",
               f"--pid-file={tmp_path / 'mariadb.pid'}", "--skip-log-bin",
               "--innodb-buffer-pool-size=16M", *user, *options]
    with process_on_port(command, port, "mariadbd", cwd=tmp_path, timeout_s=30.0):
        yield f"mysql+pymysql://root@127.0.0.1:{port}/mysql"
