"""A worker process: ``python -m ledger.sim._worker CONFIG.json`` (started by the run).

It rebuilds the world from the seed, opens the shared store with the trusted root, and runs
its seeded commands (:class:`ledger.sim._workload.Worker`), maybe killing itself at one kill
point. Exit 0 when done, 3 when a command raised something other than a LedgerError.
"""

from __future__ import annotations

import datetime
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

from ledger import Ledger
from ledger.sim._crash import KillSwitch
from ledger.sim._workload import Worker, day, disconnected
from ledger.sim._world import World


def main(config_path: str) -> int:
    """Run the worker described by the JSON file ``config_path``."""
    config = json.loads(Path(config_path).read_text(encoding="utf-8"))
    world = World(config["seed"], version=config["version"])
    clock: list[datetime.datetime] = [day(3)]
    switch = KillSwitch()
    switch.install()
    rng = random.Random(f"{config['seed']}:{config['name']}")
    kill = (int(config["kill"][0]), str(config["kill"][1])) if config["kill"] else None
    opened = _open(config, world, clock)
    with opened as ledger, open(config["log"], "a", encoding="utf-8") as log:
        worker = Worker(
            ledger,
            world,
            rng,
            config["name"],
            log,
            clock,
            switch,
            batches=config["batches"],
            run_dir=Path(config["run_dir"]),
            import_file=Path(config["import_file"]) if config["import_file"] else None,
            projector=config["projector"],
            server_restarts=config["server_restarts"],
        )
        worker.run(config["commands"], kill)
    return 3 if worker.errors else 0


def _open(config: dict[str, Any], world: World, clock: list[datetime.datetime]) -> Ledger:
    """Open the store; while the server restarts (``server_restarts``), wait for it."""
    end = time.monotonic() + 120
    while True:
        try:
            return Ledger(
                config["url"], world.root(), schema=config["schema"], clock=lambda: clock[0]
            )
        except Exception as e:
            if not (config["server_restarts"] and disconnected(e)) or time.monotonic() > end:
                raise
            time.sleep(0.2)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
