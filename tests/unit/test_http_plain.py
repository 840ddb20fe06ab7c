"""The plain path's response head: every field http.client's own begin() sets, on the same bytes."""

from __future__ import annotations

import http.client
import io

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from services.http.plain import PlainResponse, request_bytes


class _Socket:
    """What a response reads: the bytes of one answer."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def makefile(self, mode: str) -> io.BufferedReader:
        return io.BufferedReader(io.BytesIO(self._data))  # type: ignore[arg-type]


def _read(cls: type[http.client.HTTPResponse], data: bytes, method: str) -> dict[str, object]:
    response = cls(_Socket(data), method=method)  # type: ignore[arg-type]
    try:
        response.begin()
    except http.client.HTTPException as err:
        return {"error": type(err).__name__}
    return {"status": response.status, "reason": response.reason,
            "version": response.version, "headers": response.headers.items(),
            "chunked": response.chunked, "chunk_left": response.chunk_left,
            "will_close": response.will_close, "length": response.length,
            "content_type": response.getheader("Content-Type"),
            "rest": response.fp.read() if response.fp else None}


NAMES = st.sampled_from(["Content-Type", "Content-Length", "content-length", "Transfer-Encoding",
                         "Connection", "Keep-Alive", "Set-Cookie", "Location", "X-A", "Server",
                         "Date", "ETag", "Proxy-Connection", "From", "", "Bad Name", "ü"])
VALUES = st.sampled_from(["text/plain; version=0.0.4", "12", "0", "-5", " 7 ", "x12", "chunked",
                          "Chunked", "gzip, chunked", "close", "keep-alive", "", "  padded  ",
                          "a=b; Path=/", "http://x/y", "a\rb", "tab\tin", "ü-latin1", "\t"])
LINES = st.one_of(
    st.builds(lambda n, v, sep: f"{n}:{sep}{v}\r\n", NAMES, VALUES,
              st.sampled_from(["", " ", "  ", "\t"])),
    st.builds(lambda n, v: f"{n}: {v}\n", NAMES, VALUES),  # bare LF ends
    st.sampled_from([" folded on\r\n", "\tfolded\r\n", "no colon here\r\n", ":empty name\r\n",
                     "From someone\r\n", "X-Only:\r\n"]),
)


@settings(max_examples=400, deadline=None)
@given(
    status=st.sampled_from(["HTTP/1.1 200 OK", "HTTP/1.0 200 OK", "HTTP/1.1 204 No Content",
                            "HTTP/1.1 304 Not Modified", "HTTP/1.1 302 Found",
                            "HTTP/1.1 500  Server Error  ", "HTTP/2 200 OK", "HTTP/1.1 199 X",
                            "ICY 200 OK"]),
    interim=st.booleans(),
    lines=st.lists(LINES, max_size=12),
    method=st.sampled_from(["GET", "HEAD"]),
    body=st.sampled_from([b"", b"hello", b"5\r\nhello\r\n0\r\n\r\n"]),
)
@example(status="HTTP/1.1 200 OK", interim=False, method="GET", body=b"",
         lines=["Transfer-Encoding: chunked\r\n", "Content-Length: 12\r\n"])
@example(status="HTTP/1.1 200 OK", interim=True, method="HEAD", body=b"",
         lines=["Content-Length: 12\r\n", "Connection: close\r\n"])
def test_the_head_is_read_as_http_client_reads_it(status: str, interim: bool, lines: list[str],
                                                  method: str, body: bytes) -> None:
    head = ("HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\n" if interim else "") + \
        f"{status}\r\n" + "".join(lines) + "\r\n"
    data = head.encode("latin-1") + body
    assert _read(PlainResponse, data, method) == _read(http.client.HTTPResponse, data, method)


@pytest.mark.parametrize("data", [
    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    b"HTTP/1.0 200 OK\r\nServer: x\r\n\r\nhello",
])
def test_an_answer_reads_the_same_to_its_end(data: bytes) -> None:
    """Status, headers and body of common answers, as the console reads them (read1)."""
    ours = PlainResponse(_Socket(data), method="GET")  # type: ignore[arg-type]
    theirs = http.client.HTTPResponse(_Socket(data), method="GET")  # type: ignore[arg-type]
    ours.begin()
    theirs.begin()
    assert (ours.status, ours.getheaders(), ours.read1(100), ours.read1(100)) == \
        (theirs.status, theirs.getheaders(), theirs.read1(100), theirs.read1(100))


class _Recorder(http.client.HTTPConnection):
    """http.client's own connection, writing to a list instead of a socket."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__(host, port)
        self.sent: list[bytes] = []

    def send(self, data: object) -> None:
        assert isinstance(data, bytes)
        self.sent.append(data)


@pytest.mark.parametrize(("host", "port", "path", "headers"), [
    ("127.0.0.1", 8000, "/metrics", {"User-Agent": "Backroom", "Accept": "*/*"}),
    ("shop.example", 80, "/t/1/health?x=1%202", {"Accept-Encoding": "gzip, deflate"}),
    ("::1", 9090, "/", {"X-Token": b"bytes value", "accept-encoding": "identity"}),
    ("xn--bcher-kva.example", 8080, "/%C3%BC", {}),
])
def test_the_request_is_the_bytes_http_client_sends(host: str, port: int, path: str,
                                                    headers: dict[str, str | bytes]) -> None:
    recorder = _Recorder(host, port)
    recorder.request("GET", path, headers=headers)
    assert request_bytes(host, port, path, headers) == b"".join(recorder.sent)


@pytest.mark.parametrize("headers", [{"X-A": "one\r\nX-Injected: two"}, {"X-A": "a\nb"},
                                     {"Bad\r\nName": "x"}, {"": "x"}])
def test_a_header_that_would_split_the_request_is_refused_as_http_client_refuses_it(
        headers: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        _Recorder("h", 80).request("GET", "/", headers=headers)
    with pytest.raises(ValueError):
        request_bytes("h", 80, "/", headers)


@pytest.mark.parametrize("path", ["/a b", "/a\tb", "/a\x7f", "/a\r\nX: y"])
def test_a_path_http_client_refuses_is_refused(path: str) -> None:
    with pytest.raises(http.client.InvalidURL):
        _Recorder("h", 80).request("GET", path)
    with pytest.raises(http.client.InvalidURL):
        request_bytes("h", 80, path, {})
