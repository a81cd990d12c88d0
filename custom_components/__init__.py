"""Custom integrations (a package, so tests import the repository's copy)."""
