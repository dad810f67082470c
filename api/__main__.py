"""Serve the API with uvicorn: python -m api (port API_PORT, 8000 by default; same database as the app)."""

from __future__ import annotations

import argparse
import sys

import uvicorn

from common.config import ConfigError, get_settings
from common.logging import configure_logging

EXIT_OK, EXIT_USAGE = 0, 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m api", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    parser.add_argument("--port", type=int, help="port to listen on (default: API_PORT, else 8000)")
    parser.add_argument("--workers", type=int, default=1)
    # Options first: --help answers whatever the settings say, and a bad setting is one line, as in core and db.
    args = parser.parse_args(argv)
    try:
        settings = get_settings()
        configure_logging(settings.log_path, settings.log_level)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return EXIT_USAGE
    # uvicorn's proxy headers would trust X-Forwarded-For from 127.0.0.1 whatever TRUSTED_PROXIES says;
    # the app reads the header itself, by that setting only.
    port = args.port if args.port is not None else settings.api_port
    uvicorn.run("api.asgi:app", host=args.host, port=port, workers=args.workers, proxy_headers=False)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
