"""The API's routes, one module per area; each route calls one core function."""
