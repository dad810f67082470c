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
    if not path.exists():
        # Written whole under a name of its own, then linked into place: a process that starts at the
        # same moment (the app and a worker) never reads a file created but not yet written, which
        # gave it an empty key. The first link wins and everyone reads that key.
        draft = path.with_name(f".{file_name}.{secrets.token_hex(8)}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_hex(32))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()
