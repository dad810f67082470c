"""The app object uvicorn imports: `uvicorn api.asgi:app`."""

from api.app import create_app

app = create_app()
