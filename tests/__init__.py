"""Tests for the Sequence integration."""
