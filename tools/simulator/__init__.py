"""A local stand-in for Sequence's APIs (Remote API now, Platform API next) for development.

Run ``python -m tools.simulator --help``. Layout: ``state`` (the simulated bank), ``scenarios``
(fault modes and one-shot changes), ``remote_api`` (the wire format of ``POST /accounts``),
``control`` (``/_simulator/``), ``app`` (composes them) and ``__main__`` (the CLI).
"""
