"""Hostile-input tests: every refusal is a clear 4xx (or SPEC's status) and changes nothing."""
