"""Keys a development set-up without configured secrets generates once and keeps beside its SQLite file (var/).

Kept in a file, not in the process: the app, its job processes and a Streamlit reload of a changed
module must all read the same key. Production never gets here: it refuses to start without real keys.
"""

from __future__ import annotations

import os
import secrets

from common.config import Settings, resolve_path


def development_key(settings: Settings, file_name: str) -> str:
    """The key in var/<file_name>, written (owner-readable only) the first time anyone asks."""
    path = resolve_path(settings.sqlite_path).parent / file_name
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: when the app and a worker start together, one writes the key and both read it.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(descriptor, "w") as file:
        file.write(secrets.token_hex(32))
    return path.read_text().strip()
