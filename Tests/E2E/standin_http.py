"""The HTTP plumbing the cloud stand-ins (aws_standin, azure_standin, gcp_standin) share.

Each stand-in decides what a request means and what to answer; this module only carries
the bytes, the same way for all three:
- Server binds 127.0.0.1 on a free port (over TLS when given an ssl.SSLContext), serves in
  a daemon thread and tells its port and url; stop() shuts it down.
- handler(reply) makes the request handler: HTTP/1.1 (keep-alive), the whole body read by
  its Content-Length, the request handed to `reply` as a RawRequest (method, target as
  received, headers as received, body) and the Reply written back as status, its headers
  in their order, then Content-Length and the body (no body for HEAD). A client that hung
  up before the answer was written closes the connection quietly. Methods served: GET,
  POST, PUT, DELETE, PATCH, HEAD, and CONNECT only when asked for (other methods get the
  http.server default, 501). Nothing is logged to stderr (QuietHandler).
- control() is the client of a stand-in's JSON control endpoints (/_standin/...).
- StartStop makes a stand-in a context manager: start() on entry, stop() on exit.
- serve_as_program() is the "run as a program" loop: one JSON line, then serve until
  stdin closes or SIGTERM.
- proxy_env() and inherited_env() are the environment a CLI gets when its proxies point
  at a local sink for escapes.
Standard library only.
"""

from __future__ import annotations

import json
import os
import signal
import ssl
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, NamedTuple, TypeVar

# What writing an answer raises once the client gave up waiting (say, a delay fault outlasting
# aws's --cli-read-timeout). ssl.SSLError only ever comes from a TLS server's socket.
_HUNG_UP = (BrokenPipeError, ConnectionResetError, ssl.SSLError)

# The variables that could send a CLI's requests elsewhere or make it trust another CA.
_PROXY_AND_CA = ("HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "ALL_PROXY", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


@dataclass(frozen=True)
class RawRequest:
    method: str
    target: str  # as received: /path?query, or (sent to a proxy) an absolute URI or host:port
    headers: list[tuple[str, str]]  # as received, names in their own case, repeats kept
    body: bytes

    @property
    def path(self) -> str:
        """The target's path, not percent-decoded."""
        return urllib.parse.urlsplit(self.target).path

    @property
    def query(self) -> dict[str, str]:
        """The target's query parameters (decoded; blank values kept, the last of a repeat wins)."""
        return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.target).query, keep_blank_values=True))

    def lower_headers(self) -> dict[str, str]:
        """The headers by lower-case name (the last of a repeat wins)."""
        return {name.lower(): value for name, value in self.headers}


class Reply(NamedTuple):
    status: int
    headers: list[tuple[str, str]]  # written in this order, before Content-Length
    body: bytes
    close: bool = False  # close the connection after this answer


class QuietHandler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:
        pass  # the stand-ins' request logs replace the default stderr chatter


def handler(reply: Callable[[RawRequest], Reply], *, connect: bool = False) -> type[BaseHTTPRequestHandler]:
    """A request handler class answering every request with reply(request); with `connect`,
    CONNECT requests (a proxy tunnel asked for) go to `reply` too."""

    class Handler(QuietHandler):
        # HTTP/1.1 keeps the CLI's connections alive; every answer carries a Content-Length.
        protocol_version = "HTTP/1.1"

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            answer = reply(RawRequest(self.command, self.path, list(self.headers.items()), body))
            if answer.close:
                self.close_connection = True
            try:
                self.send_response(answer.status)
                for name, value in answer.headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(answer.body)
            except _HUNG_UP:
                self.close_connection = True

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle
        if connect:
            do_CONNECT = _handle

    return Handler


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, handler_class: type[BaseHTTPRequestHandler], context: ssl.SSLContext | None):
        super().__init__(("127.0.0.1", 0), handler_class)
        self.context = context

    def get_request(self):
        sock, address = self.socket.accept()
        if self.context is None:
            return sock, address
        # The TLS handshake happens in the request's own thread (finish_request), so one
        # slow or broken client cannot hold up the accept loop.
        return self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address

    def finish_request(self, request, client_address) -> None:
        if self.context is not None:
            try:
                request.do_handshake()
            except (ssl.SSLError, OSError):
                return
        super().finish_request(request, client_address)


class Server:
    """A threading HTTP server bound to 127.0.0.1 on a free port, over TLS with `context`.
    It is bound at once; start() serves it in a daemon thread called `name`."""

    def __init__(self, handler_class: type[BaseHTTPRequestHandler], name: str,
                 context: ssl.SSLContext | None = None):
        self._httpd = _HTTPServer(handler_class, context)
        self._name = name
        self._scheme = "http" if context is None else "https"
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"{self._scheme}://127.0.0.1:{self.port}"

    def start(self) -> "Server":
        self._thread = threading.Thread(target=self._httpd.serve_forever, name=self._name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:  # shutdown() waits for a serve_forever that never ran otherwise
            self._httpd.shutdown()
            self._thread = None
        self._httpd.server_close()


def control(base_url: str, method: str, path: str, payload: dict | None = None,
            context: ssl.SSLContext | None = None) -> dict:
    """Calls a stand-in's JSON control endpoint `path` (/_standin/...); an HTTP error becomes
    a RuntimeError naming the request, the status and the answer's body."""
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(base_url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30, context=context) as answer:
            return json.load(answer)
    except urllib.error.HTTPError as error:
        raise RuntimeError(f"{method} {path}: {error.code} {error.read().decode()}") from None


_S = TypeVar("_S", bound="StartStop")


class StartStop:
    """`with StandIn(...) as standin:` runs standin.start() on entry and standin.stop() on exit."""

    def start(self):
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self: _S) -> _S:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def serve_as_program(standin: StartStop, announce: Callable[[], dict]) -> None:
    """Starts `standin`, prints announce() as one JSON line and serves until stdin closes or
    the process is signalled (SIGTERM, Ctrl-C); stops it whatever happens."""
    standin.start()
    try:
        print(json.dumps(announce()), flush=True)
        # Serve until the harness closes our stdin or signals us.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        sys.stdin.read()
    except KeyboardInterrupt:
        pass
    finally:
        standin.stop()


def proxy_env(proxy_url: str) -> dict[str, str]:
    """HTTP(S)_PROXY (both spellings) at `proxy_url`, with NO_PROXY keeping 127.0.0.1 and
    localhost direct: whatever a CLI sends to another host lands at the proxy."""
    return {"HTTPS_PROXY": proxy_url, "https_proxy": proxy_url, "HTTP_PROXY": proxy_url, "http_proxy": proxy_url,
            "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}


def inherited_env(variables: dict[str, str], dropped: tuple[str, ...]) -> dict[str, str]:
    """os.environ without the variables whose names start with one of `dropped` and without
    the proxy and CA bundle variables (any case), plus `variables`."""
    kept = {k: v for k, v in os.environ.items()
            if not k.upper().startswith(dropped) and k.upper() not in _PROXY_AND_CA}
    return {**kept, **variables}
