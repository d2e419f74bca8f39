"""Writing a command's output file: never over an existing file unless ``--force``.

Rules: without ``--force`` a file is created only if it does not exist (``O_EXCL``, so no race
either); an existing file, or one that cannot be written, is one line and exit code 2, and
nothing is written.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import click

from ledger.cli._common import fail

__all__ = ["FORCE", "output_file", "refuse_existing", "write_output"]

FORCE = click.option("--force", is_flag=True, help="Overwrite the output file if it exists.")


def refuse_existing(path: Path, force: bool) -> None:
    """Fail (exit 2) before any work if ``path`` exists and ``force`` is not given."""
    if not force and (path.exists() or path.is_symlink()):
        fail(f"{path} exists; pass --force to overwrite it", 2)


def _open(path: Path, force: bool) -> int:
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if force else os.O_EXCL)
    try:
        return os.open(path, flags, 0o644)
    except FileExistsError:
        fail(f"{path} exists; pass --force to overwrite it", 2)
    except OSError as e:
        fail(f"cannot write {path}: {e.strerror or e}", 2)


def write_output(path: Path, data: bytes | str, *, force: bool) -> None:
    """Write ``data`` (text as UTF-8) to ``path``; an existing file only with ``force``."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    with os.fdopen(_open(path, force), "wb") as handle:
        handle.write(raw)


@contextmanager
def output_file(path: Path, *, force: bool) -> Iterator[IO[str]]:
    """``path`` opened for UTF-8 text as :func:`write_output` would; removed if the work fails."""
    handle = os.fdopen(_open(path, force), "w", encoding="utf-8")
    try:
        with handle:
            yield handle
    except BaseException:
        path.unlink(missing_ok=True)
        raise
