"""The bundled offline sample: real daily S&P 500 (^GSPC) prices, 1999-2018, in Yahoo's CSV layout."""

from __future__ import annotations

from common.config import PROJECT_ROOT

SAMPLE_TICKER = "^GSPC"
SAMPLE_PATH = PROJECT_ROOT / "data" / "sample" / "GSPC_1999-2018.csv"
SAMPLE_SOURCE = "sample"


def sample_bytes() -> bytes:
    return SAMPLE_PATH.read_bytes()
