"""A local stand-in for Sequence's APIs (Remote API and Platform API v1) for development.

Run ``python -m tools.simulator --help``. Layout: ``state`` (the simulated bank), ``scenarios``
(fault modes and one-shot changes), ``remote_api`` (the wire format of ``POST /accounts``),
``platform_*`` (the Platform API's records, seed, state, JSON and routes at ``/platform/v1``),
``control`` and ``platform_control`` (``/_simulator/``), ``app`` (composes them) and
``__main__`` (the CLI).
"""
