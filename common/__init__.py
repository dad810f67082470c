"""Settings, logging and the error family: the leaf package that db, core, api and the pages all import.

It imports nothing of ours, so no layer above it can form a cycle through it.
"""
