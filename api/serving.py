"""How the WSGI app meets the network: slow or stalled clients cost a coroutine, never a thread.

gunicorn runs uvicorn's worker (``uvicorn-worker``): an event loop parses requests with
httptools, and ``a2wsgi`` hands each one to the Falcon app in a thread pool. Two small pieces
make that hold for the whole request, not only its headers:

- :class:`WholeRequests` waits (in the event loop) for a request's body before the app is
  called, up to the largest body the API accepts, then calls the app once in a thread of its
  pool and sends the whole answer: one hand-off between the loop and a thread per request
  (``a2wsgi``'s responder takes one per message, each a wake-up of the loop, which came to
  about half the API's CPU per request). A bigger body streams on through ``a2wsgi``, and the
  app answers 413 after reading and discarding a bounded amount of it, so the client sees the
  JSON error.
- :class:`TimedHttpToolsProtocol` closes a connection whose request (headers or body) has not
  fully arrived ``request_timeout`` seconds after the connection opened or its previous answer
  ended, and answers a request it cannot parse with the API's JSON error shape.

For the Internet, put a reverse proxy in front anyway (TLS, connection limits per address).
"""

import asyncio
import io
import json
from concurrent.futures import ThreadPoolExecutor

from a2wsgi import WSGIMiddleware
from a2wsgi.wsgi import build_environ
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn_worker import UvicornWorker

from .errors import error_body, http_error_response


class TimedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol (llhttp, in C: about a quarter of the server's CPU per
    request less than h11's pure-Python parser), with a request deadline and JSON errors."""

    request_timeout = 10.0  # set from LIVECODE_REQUEST_TIMEOUT before the workers fork

    def connection_made(self, transport):
        super().connection_made(transport)
        self._unanswered = 0  # requests fully arrived, less answers sent: >0, one is being served
        self._deadline = self.loop.call_later(self.request_timeout, self._request_too_slow)

    def on_message_complete(self):
        self._unanswered += 1
        super().on_message_complete()

    def on_response_complete(self):
        self._unanswered -= 1  # an answer sent before its body arrived counts first
        super().on_response_complete()
        self._deadline.cancel()
        self._deadline = self.loop.call_later(self.request_timeout, self._request_too_slow)

    def connection_lost(self, exc):
        self._deadline.cancel()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        """A malformed request (request line, headers) gets the JSON error, then the close."""
        self.transport.write(http_error_response(400, "Bad Request", msg))
        self.transport.close()

    def _request_too_slow(self):
        # Nothing is being answered: the connection waits for a request's headers or body.
        if self._unanswered <= 0:
            self.transport.close()


class LivecodeWorker(UvicornWorker):
    # Open event streams and long polls end this long after a stop is asked for (clients
    # resume elsewhere: Last-Event-ID, or wait again), instead of holding the stop up.
    CONFIG_KWARGS = {"loop": "asyncio", "http": TimedHttpToolsProtocol, "lifespan": "off",
                     "timeout_graceful_shutdown": 3}


class WholeRequests:
    """ASGI app for a WSGI ``app``: a request's whole body first (up to ``limit`` bytes), then
    the app in one of ``threads`` threads, then its whole answer (the API's answers are all
    complete bodies, none a stream)."""

    def __init__(self, app, limit: int, threads: int):
        self.app, self.limit = app, limit
        self.threads = ThreadPoolExecutor(threads, thread_name_prefix="livecode-api")
        self.streaming = WSGIMiddleware(app, workers=threads)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.streaming(scope, receive, send)
        if scope["http_version"] not in ("1.0", "1.1"):
            return await send_error(send, 400, f"HTTP/{scope['http_version']} is not spoken "
                                               "here; send HTTP/1.1")
        chunks, size, more = [], 0, True
        while more and size <= self.limit:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if more:
            return await self._stream_on(scope, body, receive, send)
        environ = build_environ(scope, io.BytesIO(body))
        status, headers, answer = await asyncio.get_running_loop().run_in_executor(
            self.threads, self._answer, environ)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": answer})

    def _answer(self, environ) -> tuple[int, list, bytes]:
        started, written = [], []

        def start_response(status, headers, exc_info=None):
            if exc_info and started:
                raise exc_info[1].with_traceback(exc_info[2])
            started[:] = [int(status.split(" ", 1)[0]),
                          [(name.lower().encode("latin-1"), value.encode("latin-1"))
                           for name, value in headers]]
            return written.append  # WSGI's write(): what it is given comes first

        result = self.app(environ, start_response)
        try:
            answer = b"".join(written) + b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        return started[0], started[1], answer

    async def _stream_on(self, scope, first_body, receive, send):
        """A body over the limit: ``a2wsgi`` feeds the app the rest as it reads it."""
        first = {"type": "http.request", "body": first_body, "more_body": True}

        async def replay():
            nonlocal first
            if first is not None:
                message, first = first, None
                return message
            return await receive()

        await self.streaming(scope, replay, send)


async def send_error(send, status: int, message: str) -> None:
    body = json.dumps(error_body(status, None, message)).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"connection", b"close"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
