"""Forget what a process caches (settings, engine, Redis clients, log handlers), as a new process would."""

import logging

from common.config import get_settings
from common.logging import ROOT_LOGGER_NAME
from core.redis_client import reset_redis
from core.throttle import reset_throttles
from db.engine import reset_engine


def reset_process_state() -> None:
    get_settings.cache_clear()
    reset_engine()
    reset_redis()
    reset_throttles()
    app_logger = logging.getLogger(ROOT_LOGGER_NAME)
    for handler in list(app_logger.handlers):
        app_logger.removeHandler(handler)
        handler.close()
    app_logger.propagate = True
