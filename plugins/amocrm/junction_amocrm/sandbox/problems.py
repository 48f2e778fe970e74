"""amoCRM's error bodies, as the sandbox answers them."""

from __future__ import annotations

from typing import Any

from fastapi import Response
from fastapi.responses import HTMLResponse, JSONResponse

PROBLEM_TYPE = "application/problem+json"
OAUTH_PROBLEM = "https://developers.amocrm.ru/v3/errors/OAuthProblemJson"


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {
        "title": title,
        "type": f"https://httpstatus.es/{status}",
        "status": status,
        "detail": detail,
    }
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_TYPE)


def oauth_problem(status: int, hint: str, detail: str) -> JSONResponse:
    body = {
        "hint": hint,
        "title": "Unauthorized" if status == 401 else "Bad Request",
        "type": OAUTH_PROBLEM,
        "status": status,
        "detail": detail,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_TYPE)


class Refusal(Exception):
    """amoCRM's answer refusing a request, raised from anywhere in a route."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


class ValidationFailed(Exception):
    """Collects amoCRM `validation-errors` for one request."""

    def __init__(self) -> None:
        super().__init__("validation failed")
        self.items: list[dict[str, Any]] = []

    def add(self, request_id: str, code: str, path: str, detail: str) -> None:
        for item in self.items:
            if item["request_id"] == request_id:
                item["errors"].append({"code": code, "path": path, "detail": detail})
                return
        self.items.append(
            {"request_id": request_id, "errors": [{"code": code, "path": path, "detail": detail}]}
        )

    def response(self) -> JSONResponse:
        return problem(
            400, "Bad Request", "Request validation failed", **{"validation-errors": self.items}
        )


def _nginx_page(title: str) -> str:
    return (
        f"<html><head><title>{title}</title></head><body><center><h1>{title}</h1></center>"
        "<hr><center>nginx</center></body></html>"
    )


TOO_MANY_HTML = _nginx_page("429 Too Many Requests")
FORBIDDEN_HTML = _nginx_page("403 Forbidden")


def html(status: int, page: str) -> HTMLResponse:
    return HTMLResponse(page, status_code=status)
