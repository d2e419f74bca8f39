"""The simulator's own PostgreSQL server, in a temporary data directory, to restart at will.

Rules:
- ``initdb`` and ``pg_ctl`` are looked up on ``PATH`` and under ``/usr/lib/postgresql/*/bin``;
  :func:`find_binaries` says why when they are missing (the caller skips with that reason).
- PostgreSQL refuses to run as root: as root the server runs as the ``postgres`` user (through
  ``runuser``), in a directory that user owns.
- The server listens on 127.0.0.1 at a free port and on a Unix socket in its own directory,
  with trust authentication; it is never the machine's shared server, which no run restarts.
- :meth:`PgServer.restart` stops the server in ``fast`` mode (clients disconnected, open
  transactions rolled back) or ``immediate`` mode (no shutdown checkpoint: crash recovery from
  the WAL at the next start) and starts it again, waiting until it accepts connections.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

__all__ = ["PgServer", "find_binaries"]


def find_binaries() -> tuple[Path | None, str]:
    """The folder holding ``initdb`` and ``pg_ctl``, or None and why not."""
    candidates = [Path(p).parent for p in (shutil.which("initdb"),) if p]
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            if os.geteuid() == 0 and not (shutil.which("runuser") and _has_user("postgres")):
                return None, "running as root without runuser and a postgres user for initdb"
            return folder, ""
    return None, "initdb and pg_ctl are not on PATH nor under /usr/lib/postgresql/*/bin"


def _has_user(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgServer:
    """A private PostgreSQL server: :meth:`start`, :meth:`restart`, :meth:`stop`.

    Args:
        where: the parent of the temporary data directory (default: the system's).
    """

    def __init__(self, where: Path | None = None) -> None:
        folder, why = find_binaries()
        if folder is None:
            raise RuntimeError(f"no PostgreSQL server binaries: {why}")
        self.bin = folder
        self.home = Path(tempfile.mkdtemp(prefix="ledger-sim-pg-", dir=where))
        self.data = self.home / "data"
        self.port = _free_port()
        self.restarts: dict[str, int] = {}
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(self.home, "postgres", "postgres")
            self.home.chmod(0o700)

    @property
    def url(self) -> str:
        """The URL of its ``postgres`` database."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed: {done.stderr or done.stdout}")

    def _options(self) -> str:
        return (
            f"-p {self.port} -k {self.home} -c listen_addresses=127.0.0.1"
            " -c max_connections=200 -c fsync=off"
        )

    def start(self) -> PgServer:
        """Create the data directory (once) and start the server; this server."""
        if not self.data.exists():
            self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.home / "log"), "-w", "-t", "120",
            "-o", self._options(), "start",
        )  # fmt: skip
        return self

    def restart(self, mode: str) -> None:
        """Stop the server in ``mode`` (``fast`` or ``immediate``) and start it again."""
        if mode not in ("fast", "immediate"):
            raise ValueError(f"unknown shutdown mode {mode!r}")
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "120", "stop")
        self.start()
        self.restarts[mode] = self.restarts.get(mode, 0) + 1

    def stop(self) -> None:
        """Stop the server (fast) and delete its data directory."""
        try:
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.home, ignore_errors=True)

    def __enter__(self) -> PgServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
