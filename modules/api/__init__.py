"""The A1111-compatible REST API (/sdapi/v1): schemas, routes, auth, and the FastAPI app around them."""
