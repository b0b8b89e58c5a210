"""Web pages over TestClient, on the HTTP tests' app and fixtures."""

from tests.http.conftest import (  # noqa: F401 - the HTTP fixtures, shared with tests/http
    api,
    client,
    clock,
    container,
)
