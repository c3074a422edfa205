"""Agents, model providers, token accounting, run records and the headless bench (no Textual)."""
