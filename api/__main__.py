"""Serve the API with uvicorn: python -m api (port API_PORT, 8000 by default; same database as the app)."""

from __future__ import annotations

import argparse

import uvicorn

from common.config import get_settings
from common.logging import configure_logging


def main() -> None:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m api", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    parser.add_argument("--port", type=int, default=settings.api_port)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    configure_logging(settings.log_path, settings.log_level)
    # uvicorn's proxy headers would trust X-Forwarded-For from 127.0.0.1 whatever TRUSTED_PROXIES says;
    # the app reads the header itself, by that setting only.
    uvicorn.run("api.asgi:app", host=args.host, port=args.port, workers=args.workers, proxy_headers=False)


if __name__ == "__main__":
    main()
