"""`crawler daemon`: poll every feed on its own schedule until SIGTERM/SIGINT (see crawler/daemon.py)."""
from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from pathlib import Path

from ..daemon import Daemon
from ..metrics import Metrics, MetricsServer
from ..pipeline import open_pipeline
from . import EXIT_OK
from .common import settings_from


async def run_daemon(settings, config_path: Path, metrics_host: str, metrics_port: int | None) -> None:
    metrics = Metrics()
    async with AsyncExitStack() as stack:
        pipeline = await stack.enter_async_context(open_pipeline(settings, metrics))
        if metrics_port is not None:
            await stack.enter_async_context(MetricsServer(metrics, metrics_host, metrics_port))
        await Daemon(settings, config_path, pipeline, metrics).run()


def run(args) -> int:
    settings = settings_from(args)
    asyncio.run(run_daemon(settings, Path(args.config), args.metrics_host, args.metrics_port))
    return EXIT_OK
