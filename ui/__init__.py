"""The only Streamlit-aware helpers: start-up, cached resources, shared widgets and charts."""
