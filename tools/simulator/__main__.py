"""Run the Sequence simulator: ``python -m tools.simulator [options]``.

Serves Sequence's Remote API (``POST /accounts`` and rule triggers), its Platform API
(``/platform/v1``) and the control API (``/_simulator/``) on loopback, for two beneficiaries:
a household (the ``--token`` tokens and every API key) and a small business (the
``--business-token`` tokens). Once it accepts connections it prints exactly one line to
stdout, ``Sequence simulator listening on http://HOST:PORT (scenario: NAME)``, which other
tools wait for. Requests are logged to stderr as method, path and status only; tokens, keys
and rule secrets never appear.
"""

import argparse
import asyncio
from collections.abc import Sequence
import ipaddress
import logging
import signal
import socket
import sys

from aiohttp import web

from .app import DEFAULT_BUSINESS_TOKEN, DEFAULT_TOKEN, build_app
from .platform_records import DEFAULT_API_KEY, RATE_LIMIT_PER_MINUTE, KeySpec, parse_api_key
from .runtime import Simulator
from .scenarios import DEFAULT_RETRY_AFTER, DEFAULT_SLOW_SECONDS, SCENARIO_NAMES, Settings
from .state import Bank

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
MAX_EXTRA_ACCOUNTS = 100_000
SHUTDOWN_TIMEOUT = 2.0
"""Seconds in-flight requests (e.g. of scenario ``slow``) get to finish on shutdown."""
LOGGER = logging.getLogger(__package__)


def is_loopback(host: str) -> bool:
    """Whether ``host`` only listens on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _non_negative_int(value: str) -> int:
    number = int(value)
    if number < 0:
        msg = f"must be >= 0, not {number}"
        raise argparse.ArgumentTypeError(msg)
    return number


def _non_negative_float(value: str) -> float:
    number = float(value)
    if not number >= 0:  # also refuses nan
        msg = f"must be >= 0, not {value}"
        raise argparse.ArgumentTypeError(msg)
    return number


def _api_key(value: str) -> KeySpec:
    try:
        return parse_api_key(value)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        msg = f"must be >= 1, not {number}"
        raise argparse.ArgumentTypeError(msg)
    return number


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line, checked (exits with status 2 on a bad one)."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.simulator",
        description="A local stand-in for Sequence's Remote API (POST /accounts) and Platform "
        "API (/platform/v1) for two beneficiaries (a household; a small business, which only "
        "--business-token tokens see), rule triggers with a rule's API secret, and a control API "
        "under /_simulator/ (state, scenario, accounts, api_keys, transfers, rules, timing, "
        "external_transactions, remote_rules, reset).",
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to listen on (loopback)")
    parser.add_argument(
        "--allow-remote", action="store_true", help="allow a --host that is not loopback"
    )
    parser.add_argument(
        "--port",
        type=_non_negative_int,
        default=DEFAULT_PORT,
        help=f"port (default {DEFAULT_PORT}; 0 picks a free one, shown in the listening line)",
    )
    parser.add_argument(
        "--token",
        action="append",
        metavar="TOKEN",
        help=f"a valid access token; repeat for several (default {DEFAULT_TOKEN!r})",
    )
    parser.add_argument(
        "--business-token",
        action="append",
        metavar="TOKEN",
        help="a valid access token of the second beneficiary, a small business with accounts of "
        f"its own; repeat for several (default {DEFAULT_BUSINESS_TOKEN!r})",
    )
    parser.add_argument(
        "--api-key",
        action="append",
        type=_api_key,
        metavar="KEY[:PERMISSIONS]",
        help="a valid Platform API key, optionally with comma-separated permissions (e.g. "
        "sk_test_ro_key:READ_ACCOUNTS,READ_TRANSFERS; 'KEY:' for none; default: the "
        "development key's: every read, TRIGGER_RULES and MANUAL_TRANSFER with its pairs); "
        "MANUAL_TRANSFER alone allows any pair, MANUAL_TRANSFER=SOURCE>TARGET[@MAX_CENTS]"
        "[+SOURCE>TARGET...] only those (accounts by either API's id); repeat for several "
        f"(default {DEFAULT_API_KEY!r})",
    )
    parser.add_argument(
        "--platform-rate-limit",
        type=_positive_int,
        default=RATE_LIMIT_PER_MINUTE,
        metavar="N",
        help=f"Platform API requests per minute and key before 429 (default "
        f"{RATE_LIMIT_PER_MINUTE})",
    )
    parser.add_argument(
        "--scenario", choices=SCENARIO_NAMES, default="ok", help="scenario at start"
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the balance drift")
    parser.add_argument(
        "--accounts",
        type=_non_negative_int,
        default=0,
        metavar="N",
        help="add N synthetic Pods ('Pod 0001', ...) for load tests",
    )
    parser.add_argument(
        "--retry-after",
        type=_non_negative_int,
        default=DEFAULT_RETRY_AFTER,
        metavar="SECONDS",
        help=f"Retry-After of scenario rate_limited (default {DEFAULT_RETRY_AFTER})",
    )
    parser.add_argument(
        "--slow-seconds",
        type=_non_negative_float,
        default=DEFAULT_SLOW_SECONDS,
        metavar="SECONDS",
        help=f"delay of scenario slow (default {DEFAULT_SLOW_SECONDS:g})",
    )
    parser.add_argument(
        "--log-level",
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        default="INFO",
        help="stderr log level (default INFO)",
    )
    args = parser.parse_args(argv)
    if not args.allow_remote and not is_loopback(args.host):
        parser.error(f"--host {args.host} is not loopback; add --allow-remote to mean it")
    if args.accounts > MAX_EXTRA_ACCOUNTS:
        parser.error(f"--accounts is at most {MAX_EXTRA_ACCOUNTS}")
    args.token = args.token or [DEFAULT_TOKEN]
    args.business_token = args.business_token or [DEFAULT_BUSINESS_TOKEN]
    specs = args.api_key or [parse_api_key(DEFAULT_API_KEY)]
    args.api_key = {key: permissions for key, permissions, _pairs in specs}
    args.transfer_pairs = {key: pairs for key, _permissions, pairs in specs}
    if any(not token or token != token.strip() for token in args.token + args.business_token):
        parser.error("--token and --business-token must be non-empty, without surrounding blanks")
    if set(args.token) & set(args.business_token):
        parser.error("a token sees one beneficiary: give it as --token or --business-token")
    return args


def bind(host: str, port: int) -> socket.socket:
    """A listening-ready socket on ``host:port`` (port 0: the system picks a free one)."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


def url(host: str, port: int) -> str:
    """``http://host:port``, with brackets around an IPv6 address."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


async def serve(args: argparse.Namespace, *, stop: asyncio.Event | None = None) -> int:
    """Serve until ``stop`` is set (by default: until SIGINT or SIGTERM); the exit code."""
    bank = Bank(seed=args.seed, extra_accounts=args.accounts)
    simulator = Simulator.create(
        bank,
        Settings(args.retry_after, args.slow_seconds),
        api_keys=args.api_key,
        transfer_pairs=args.transfer_pairs,
        rate_limit=args.platform_rate_limit,
    )
    applied = simulator.scenarios.activate(args.scenario)
    if applied.keys() != {"applied"}:
        LOGGER.info("scenario %s: %s", args.scenario, applied)
    try:
        sock = bind(args.host, args.port)
    except OSError as err:
        print(f"cannot listen on {args.host}:{args.port}: {err.strerror}", file=sys.stderr)
        return 1
    runner = web.AppRunner(
        build_app(simulator, tokens=args.token, business_tokens=args.business_token),
        access_log=None,  # the app logs method, path and status itself
        shutdown_timeout=SHUTDOWN_TIMEOUT,
    )
    await runner.setup()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM) if stop is None else ()
    stop = stop or asyncio.Event()
    for signum in signals:
        loop.add_signal_handler(signum, stop.set)
    try:
        await web.SockSite(runner, sock).start()
        port = sock.getsockname()[1]
        scenario = simulator.scenarios.current.name
        print(
            f"Sequence simulator listening on {url(args.host, port)} (scenario: {scenario})",
            flush=True,
        )
        await stop.wait()
    finally:
        for signum in signals:
            loop.remove_signal_handler(signum)
        await runner.cleanup()
    print("Sequence simulator stopped", file=sys.stderr, flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the simulator."""
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    return asyncio.run(serve(args))


if __name__ == "__main__":
    sys.exit(main())
