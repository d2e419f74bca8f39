"""Writing the ledger's own JSON files (keys, trust roots, the demo's outputs).

Rules: a file is written only if it does not exist yet (never over another file); a private
key file is created with mode 0600; the text is indented JSON ending in a newline.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

__all__ = ["write_new_json"]


def write_new_json(path: Path, data: Any, *, private: bool = False) -> None:
    """Write ``data`` to the new file ``path``; raise OSError if it exists or cannot be made."""
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
