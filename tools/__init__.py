"""Developer tools: simulator, probe, benchmarks (not shipped with the integration)."""
