"""What the server runs: the Streamlit app of Home.py, and the static files it serves itself.

`streamlit run app.py` finds the App below and serves it with uvicorn, as it serves a plain script.
"""

import streamlit as st

from ui.components.assets import ROUTES

app = st.App("Home.py", routes=ROUTES)
