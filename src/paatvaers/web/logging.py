"""Structured logs: one JSON object per line on stderr, from structlog and stdlib alike.

`configure_logging` is called once by whoever starts the server, never by `create_app`, so
that building an app (as tests do) leaves the process's logging alone.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import TextIO

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from structlog.typing import Processor

# Our handler is recognised by name, so reconfiguring replaces it and leaves other handlers
# (such as pytest's capture handlers) in place.
HANDLER_NAME = "paatvaers-json"
# uvicorn installs its own handlers; handing its records to the root gives them our format.
_SERVER_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")
# These log full URLs, query strings included, at INFO: uvicorn's access line for each request
# (our middleware logs the request without it) and httpx for outgoing calls.
_URL_LOGGERS = ("uvicorn.access", "httpx", "httpcore", "httpx2", "httpcore2")


def _shared_processors() -> list[Processor]:
    """Applied to structlog events and to foreign stdlib records alike."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


class _CurrentStderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever `sys.stderr` is when a record arrives, not when configured, so
    redirections made later (pytest's capture, a supervisor's wrapper) are honoured."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def _json_handler() -> logging.Handler:
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
    )
    handler = _CurrentStderrHandler(sys.stderr)
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(formatter)
    return handler


def _level_number(level: str) -> int:
    number = logging.getLevelNamesMapping().get(level.upper())
    if number is None:
        raise ValueError(f"Unknown log level: {level!r}")
    return number


def configure_logging(level: str) -> None:
    """Route structlog through stdlib logging and render everything as JSON lines on stderr."""
    number = _level_number(level)  # first, so a bad level changes nothing
    _configure_structlog()
    root = logging.getLogger()
    remove_json_handler()
    root.addHandler(_json_handler())
    root.setLevel(number)
    _adopt_library_loggers()


def _configure_structlog() -> None:
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_shared_processors(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # Not cached, so a later reconfiguration (tests) reaches loggers already in use.
        cache_logger_on_first_use=False,
    )


def _adopt_library_loggers() -> None:
    for name in _SERVER_LOGGERS:
        server_logger = logging.getLogger(name)
        server_logger.handlers.clear()
        server_logger.propagate = True
    for name in _URL_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def remove_json_handler() -> None:
    """Undo `configure_logging`'s handler (tests use it to leave the process as they found it)."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(handler)
        handler.close()


class RequestLogMiddleware:
    """Logs one line per HTTP request: method, path, status code and duration.

    Only the path is logged, never the query string: query strings may carry CPR numbers.
    A pure ASGI middleware, so the line is written even when the app raises.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.log: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger("paatvaers.web")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status_code = 500  # what the client gets if the app raises before responding

        async def send_recording_status(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_recording_status)
        finally:
            self.log.info(
                "http_request",
                method=scope["method"],
                path=scope["path"],
                status_code=status_code,
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
            )
