"""Contract tests: the simulator and the Platform API client against the OpenAPI description."""
