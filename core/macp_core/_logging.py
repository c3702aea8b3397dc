"""The SDK's stdlib logger. No handler is installed unless the application asks for one."""

from __future__ import annotations

import logging

LOGGER_NAME = "macp_sdk"
logger = logging.getLogger(LOGGER_NAME)

DEFAULT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def get_logger(name: str = "") -> logging.Logger:
    """Return ``macp_sdk`` or one of its children (``macp_sdk.<name>``)."""
    return logger.getChild(name) if name else logger


def configure_logging(level: int | str = logging.INFO, fmt: str = DEFAULT_FORMAT) -> logging.Logger:
    """Attach one stream handler to the ``macp_sdk`` logger (idempotent) and set its level."""
    if not any(getattr(h, "_macp_sdk_handler", False) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler._macp_sdk_handler = True  # type: ignore[attr-defined]
        handler.setFormatter(logging.Formatter(fmt))
        logger.addHandler(handler)
    logger.setLevel(level)
    return logger
