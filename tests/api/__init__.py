"""Tests for the API clients (no Home Assistant involved)."""
