"""End-to-end tests: `recognito serve` in a subprocess, driven with stock boto3.

A package, so that its conftest is imported as ``e2e.conftest`` and never shadows tests/conftest.py.
"""
