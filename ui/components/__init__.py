"""Streamlit components of our own, served from files the app writes on first use."""
