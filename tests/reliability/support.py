"""What the reliability tests share: canned HTTP answers without a socket, misbehaving
servers (silent, dripping, huge, crashing), certificates, memory and thread figures."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import requests.adapters
import urllib3
from requests.structures import CaseInsensitiveDict

from tests import servers

Answer = tuple[int, dict[str, str], bytes]

#: Short stand-in bodies the canned transport expands to JSON nested 100 000 (50 000) deep,
#: which blows Python's JSON parser's stack; short so a failing example prints readably.
DEEP_JSON = b"<100000 x [>"
DEEP_OBJECT = b'<50000 x {"a":>'
_EXPANDED = {DEEP_JSON: b"[" * 100_000, DEEP_OBJECT: b'{"a":' * 50_000}


# -- HTTP answers without a socket ------------------------------------------------------------

class CannedAdapter(requests.adapters.BaseAdapter):
    """A requests transport that answers every request from ``answer(request)``: the real
    client code (fetch, status checks, JSON parsing) runs, only the socket is left out, so
    a fuzzer can try thousands of bodies a second."""

    def __init__(self, answer: Callable[[requests.PreparedRequest], Answer]) -> None:
        super().__init__()
        self.answer = answer
        self.sent = 0

    def send(self, request: requests.PreparedRequest, stream: bool = False,
             timeout: Any = None, verify: Any = True, cert: Any = None,
             proxies: Any = None) -> requests.Response:
        self.sent += 1
        status, headers, body = self.answer(request)
        body = _EXPANDED.get(body, body)
        raw = urllib3.HTTPResponse(body=io.BytesIO(body), headers=headers, status=status,
                                   preload_content=False, decode_content=True, reason="canned")
        response = requests.Response()
        response.status_code = status
        response.headers = CaseInsensitiveDict(headers)
        response.raw = raw
        response.reason = "canned"
        response.url = request.url or ""
        response.request = request
        response.encoding = requests.utils.get_encoding_from_headers(response.headers)
        response.connection = self  # type: ignore[assignment]  # any adapter will do
        return response

    def close(self) -> None:
        """Nothing to release."""


def canned_session(answer: Callable[[requests.PreparedRequest], Answer]) -> requests.Session:
    """A session whose every http(s) request is answered by ``answer``."""
    session = requests.Session()
    adapter = CannedAdapter(answer)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


# -- misbehaving servers ------------------------------------------------------------------------

@dataclass
class RawServer:
    """A TCP server on 127.0.0.1 that runs ``behave(conn)`` for every connection on its own
    thread; counts connections and requests, closes everything on stop."""

    behave: Callable[[socket.socket, RawServer], None]
    port: int = 0
    connections: int = 0
    requests: list[float] = field(default_factory=list)
    bytes_sent: int = 0
    _listener: socket.socket | None = None
    _threads: list[threading.Thread] = field(default_factory=list)
    _conns: list[socket.socket] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def start(self) -> RawServer:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.05)
        self._listener = listener
        self.port = listener.getsockname()[1]
        accept = threading.Thread(target=self._accept, name="test-raw-accept", daemon=True)
        self._threads.append(accept)
        accept.start()
        return self

    def _accept(self) -> None:
        assert self._listener is not None
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                continue
            with self._lock:
                self.connections += 1
                self._conns.append(conn)
            worker = threading.Thread(target=self._serve, args=(conn,), name="test-raw-conn",
                                      daemon=True)
            self._threads.append(worker)
            worker.start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            self.behave(conn, self)
        except OSError:
            pass  # the client gave up: what many of these tests want
        finally:
            conn.close()

    def read_request(self, conn: socket.socket) -> bytes:
        """Read one request head (up to the blank line); b'' when the client closed."""
        conn.settimeout(5)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return b""
            data += chunk
        with self._lock:
            self.requests.append(time.monotonic())
        return data

    def send(self, conn: socket.socket, data: bytes) -> None:
        conn.sendall(data)
        with self._lock:
            self.bytes_sent += len(data)

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            with suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(timeout=5)
        if self._listener is not None:
            self._listener.close()


@contextmanager
def raw_server(behave: Callable[[socket.socket, RawServer], None]) -> Iterator[RawServer]:
    server = RawServer(behave).start()
    try:
        yield server
    finally:
        server.stop()


def silent(conn: socket.socket, server: RawServer) -> None:
    """Accept, read the request, never answer (until the test ends)."""
    server.read_request(conn)
    while not server.stopping:
        server._stop.wait(0.05)


def drip_body(every_s: float) -> Callable[[socket.socket, RawServer], None]:
    """Headers at once, then one byte of a 1 MB body every ``every_s`` seconds."""

    def behave(conn: socket.socket, server: RawServer) -> None:
        server.read_request(conn)
        server.send(conn, b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                          b"Content-Length: 1000000\r\n\r\n")
        while not server.stopping:
            server.send(conn, b"x")
            server._stop.wait(every_s)

    return behave


def drip_headers(every_s: float) -> Callable[[socket.socket, RawServer], None]:
    """A status line, then one more header line every ``every_s`` seconds, never done."""

    def behave(conn: socket.socket, server: RawServer) -> None:
        server.read_request(conn)
        server.send(conn, b"HTTP/1.1 200 OK\r\n")
        i = 0
        while not server.stopping:
            server.send(conn, b"X-Slow-%d: yes\r\n" % i)
            i += 1
            server._stop.wait(every_s)

    return behave


def huge_body(size: int, content_type: bytes = b"text/plain", chunked: bool = False
              ) -> Callable[[socket.socket, RawServer], None]:
    """Answer 200 with a ``size``-byte body, written as fast as the client reads; with
    ``chunked`` the size is not declared (Transfer-Encoding: chunked)."""
    block = b"# padding line of a very large page........................................\n" \
        * 800

    def behave(conn: socket.socket, server: RawServer) -> None:
        server.read_request(conn)
        length = b"Transfer-Encoding: chunked" if chunked else b"Content-Length: " + str(
            size).encode()
        server.send(conn, b"HTTP/1.1 200 OK\r\nContent-Type: " + content_type + b"\r\n"
                    + length + b"\r\n\r\n")
        left = size
        while left > 0 and not server.stopping:
            piece = block[:left]
            if chunked:
                piece = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
            server.send(conn, piece)
            left -= len(block[:left])
        if chunked and not server.stopping:
            server.send(conn, b"0\r\n\r\n")

    return behave


def answer_always(status: int, body: bytes, headers: dict[str, str] | None = None
                  ) -> Callable[[socket.socket, RawServer], None]:
    """Answer every request on the connection (keep-alive) with the same response."""
    head = f"HTTP/1.1 {status} X\r\nContent-Length: {len(body)}\r\n".encode()
    for key, value in (headers or {}).items():
        head += f"{key}: {value}\r\n".encode()
    message = head + b"\r\n" + body

    def behave(conn: socket.socket, server: RawServer) -> None:
        while not server.stopping:
            if not server.read_request(conn):
                return
            server.send(conn, message)

    return behave


# -- a back end in a child process, to kill with SIGKILL -----------------------------------------

CHILD_SERVER = textwrap.dedent(
    """
    import sys
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    PAGE = b"# TYPE shop_requests_total counter\\nshop_requests_total 7\\n"

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            body = PAGE if self.path.startswith("/metrics") else b'{"status": "ok"}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    ThreadingHTTPServer.allow_reuse_address = True
    ThreadingHTTPServer.daemon_threads = True
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    print("ready", flush=True)
    server.serve_forever()
    """
)


class ChildBackend:
    """A small web back end (``/health``, ``/metrics``) in a child process on a fixed port,
    so it can be killed hard and started again at the same address."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or servers.free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 15.0) -> None:
        self.process = subprocess.Popen([sys.executable, "-c", CHILD_SERVER, str(self.port)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout_s
        while not servers.port_open("127.0.0.1", self.port, timeout=0.2):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the child back end did not start")
            time.sleep(0.02)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        self.kill()
        self.process = None


# -- waiting, memory, threads ----------------------------------------------------------------------

def wait_until(condition: Callable[[], bool], timeout_s: float, step_s: float = 0.01) -> float:
    """Poll ``condition`` until true; the seconds it took. AssertionError past the deadline."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout_s:
            raise AssertionError(f"condition not met within {timeout_s:g} s")
        time.sleep(step_s)
    return time.monotonic() - start


def _status_kib(field_name: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def rss_bytes() -> int | None:
    """The process's resident set size now (Linux), or None."""
    kib = _status_kib("VmRSS")
    return None if kib is None else kib * 1024


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark (Linux >= 4.0); False when that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


def peak_rss_bytes() -> int | None:
    """The peak resident set size since start or the last :func:`reset_peak_rss`."""
    kib = _status_kib("VmHWM")
    return None if kib is None else kib * 1024


def thread_names() -> list[str]:
    return sorted(t.name for t in threading.enumerate())


def on_linux() -> bool:
    return sys.platform.startswith("linux") and os.path.exists("/proc/self/status")


# -- certificates ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Certs:
    """PEM files for TLS tests: a CA and leaves signed by it (good, expired, wrong host), and
    a leaf signed by a CA nobody trusts (the self-signed case)."""

    ca: str
    good: tuple[str, str]
    expired: tuple[str, str]
    wrong_host: tuple[str, str]
    untrusted: tuple[str, str]
    self_signed: tuple[str, str]


def make_certs(directory: Path) -> Certs:
    import datetime

    import trustme

    ca = trustme.CA()
    stranger = trustme.CA()
    ca_file = directory / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    past = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=30)

    def leaf(name: str, authority: trustme.CA, host: str,
             not_after: datetime.datetime | None = None) -> tuple[str, str]:
        kwargs: dict[str, Any] = {}
        if not_after is not None:
            kwargs["not_before"] = not_after - datetime.timedelta(days=60)
            kwargs["not_after"] = not_after
        cert = authority.issue_cert(host, **kwargs)
        chain, key = directory / f"{name}.pem", directory / f"{name}.key"
        with open(chain, "wb") as out:
            for pem in cert.cert_chain_pems:
                out.write(pem.bytes())
        cert.private_key_pem.write_to_path(str(key))
        return str(chain), str(key)

    return Certs(ca=str(ca_file), good=leaf("good", ca, "127.0.0.1"),
                 expired=leaf("expired", ca, "127.0.0.1", past),
                 wrong_host=leaf("wrong", ca, "wrong.example"),
                 untrusted=leaf("untrusted", stranger, "127.0.0.1"),
                 self_signed=_self_signed(directory))


def _self_signed(directory: Path) -> tuple[str, str]:
    """A leaf for 127.0.0.1 that signs itself (what a quick ``openssl req -x509`` makes)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    chain, key_file = directory / "self.pem", directory / "self.key"
    chain.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(chain), str(key_file)


# -- a /metrics page with very many label sets -----------------------------------------------

def _serve_many_queues(count: int, port_out: Any, stop: Any) -> None:
    """Child process: prometheus_client's exposition of a registry with one
    ``rabbitmq_queue_messages`` gauge of ``count`` queues, made once, served over HTTP."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from prometheus_client import CollectorRegistry, Gauge, generate_latest

    registry = CollectorRegistry()
    gauge = Gauge("rabbitmq_queue_messages", "messages in the queue", ["queue"],
                  registry=registry)
    for i in range(count):
        gauge.labels(f"orders-{i:06d}").set(i % 13)
    page = generate_latest(registry)

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="many-queues", daemon=True)
    thread.start()
    port_out.send(server.server_address[1])
    port_out.close()
    stop.wait()
    server.shutdown()
    server.server_close()


@contextmanager
def many_queues_page(count: int) -> Iterator[str]:
    """A ``/metrics`` URL whose page has ``count`` queue label sets, served by a process of
    its own (its memory and CPU are not the console's); stopped afterwards."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    parent_end, child_end = context.Pipe(duplex=False)
    stop = context.Event()
    child = context.Process(target=_serve_many_queues, args=(count, child_end, stop),
                            name="many-queues-page", daemon=True)
    child.start()
    try:
        if not parent_end.poll(120):
            raise RuntimeError("the page server did not start")
        yield f"http://127.0.0.1:{parent_end.recv()}/metrics"
    finally:
        stop.set()
        child.join(10)
        if child.is_alive():
            child.kill()
            child.join(5)
