"""Candlecast's REST API (FastAPI): the same core functions as the pages, behind API keys and limits."""
