"""This deployment's key for model bundles, and HMAC-SHA256 signatures made and checked with it.

The key is MODEL_SIGNING_KEY when set; otherwise it is derived from COOKIE_KEY (which production
requires to be strong), so that every replica and worker of one deployment signs alike; a
development set-up without either keeps a generated key in a file beside the SQLite database (var/).
"""

from __future__ import annotations

import hashlib
import hmac

from common.config import Settings, get_settings
from common.development_keys import development_key

DEVELOPMENT_KEY_FILE = "model-signing.key"
# Domain separation: the derived key signs nothing a cookie key signs, and the reverse.
_DERIVATION_LABEL = b"candlecast model bundle signing v1"


def signing_key(settings: Settings | None = None) -> bytes:
    """The key this deployment signs and verifies model bundles with."""
    settings = settings or get_settings()
    if settings.model_signing_key is not None:
        return settings.model_signing_key.get_secret_value().encode()
    if settings.cookie_key is not None:
        cookie_key = settings.cookie_key.get_secret_value().encode()
        return hmac.new(cookie_key, _DERIVATION_LABEL, hashlib.sha256).digest()
    return development_key(settings, DEVELOPMENT_KEY_FILE).encode()


def sign(payload: bytes, key: bytes) -> str:
    """Hex HMAC-SHA256 of the payload."""
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


def verify(payload: bytes, signature: object, key: bytes) -> bool:
    """Whether the signature is this key's signature of the payload (compared in constant time)."""
    return isinstance(signature, str) and hmac.compare_digest(sign(payload, key), signature)
