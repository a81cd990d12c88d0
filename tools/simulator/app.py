"""Compose the simulator's route modules into one aiohttp application.

The Remote API lives at the root (``/accounts``), the control API under ``/_simulator/`` and
the Platform API is a sub-application mounted at ``/platform/v1``; they share one bank through
the ``SIMULATOR`` key (``request.config_dict`` finds it from the sub-application too).
"""

import asyncio
from collections.abc import Awaitable, Callable, Iterable
import logging
import time

from aiohttp import web

from . import control, platform_api, platform_control, remote_api
from .runtime import SIMULATOR, Simulator

DEFAULT_TOKEN = "dev-token"  # noqa: S105 - the simulator's documented development token
DEFAULT_BUSINESS_TOKEN = "dev-business-token"  # noqa: S105 - documented, sees the business
LOGGER = logging.getLogger(__package__)

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def route_name(request: web.Request) -> str:
    """``"POST /accounts"``: the method and the route's pattern (not the concrete path)."""
    resource = request.match_info.route.resource
    pattern = resource.canonical if resource is not None else "(no route)"
    return f"{request.method} {pattern}"


@web.middleware
async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count API requests per route and log each as method, path and status, nothing more.

    Headers (where the tokens are), query strings and bodies are never logged.
    """
    started = time.perf_counter()
    outcome = "error"
    try:
        response = await handler(request)
        outcome = str(response.status)
    except web.HTTPException as err:
        outcome = str(err.status)
        raise
    except asyncio.CancelledError:
        outcome = "cancelled"
        raise
    finally:
        if not request.path.startswith(control.PREFIX):
            request.config_dict[SIMULATOR].requests[route_name(request)] += 1
        elapsed_ms = (time.perf_counter() - started) * 1000
        LOGGER.info("%s %s %s %.0fms", request.method, request.path, outcome, elapsed_ms)
    return response


def build_app(
    simulator: Simulator,
    *,
    tokens: Iterable[str] = (DEFAULT_TOKEN,),
    business_tokens: Iterable[str] = (DEFAULT_BUSINESS_TOKEN,),
) -> web.Application:
    """The whole simulator as one application.

    ``tokens`` are the Remote API tokens of the household (the first beneficiary),
    ``business_tokens`` those of the business. Platform API keys are the simulator's
    (``Simulator.create(..., api_keys=...)``) and see the household.
    """
    app = web.Application(middlewares=[observe])
    app[SIMULATOR] = simulator
    remote_api.setup(app, tokens=tokens, business_tokens=business_tokens)
    control.setup(app)
    platform_control.setup(app)
    platform_api.setup(app)
    return app
