"""The web app (the tenant's cabinet and the staff console), served by the API itself on
a single machine: `/` and every `/app/…` page get the app's `index.html` (the app routes
in the browser), `/assets/…` its built files.

The built app is looked for in `JUNCTION_WEB_DIR`, else beside the installation (the
image copies it to `<prefix>/frontend`), else in the source tree's `frontend/dist`.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from junction.settings import Settings

SOURCE_TREE_BUILD = Path(__file__).resolve().parents[2] / "frontend" / "dist"


def web_dir(settings: Settings) -> Path | None:
    candidates = [settings.web_dir] if settings.web_dir else []
    candidates += [Path(sys.prefix) / "frontend", SOURCE_TREE_BUILD]
    for candidate in candidates:
        if candidate is not None and (candidate / "index.html").is_file():
            return candidate
    return None


def mount_web(app: FastAPI, settings: Settings) -> None:
    built = web_dir(settings)
    if built is None:

        async def not_built() -> JSONResponse:
            return JSONResponse(
                {
                    "error": {
                        "code": "web_app_not_built",
                        "message": "the web app is not built here: run `make web` (the API "
                        "is at /api, its documentation at /docs)",
                    }
                },
                status_code=404,
            )

        app.add_api_route("/", not_built, include_in_schema=False)
        return
    index = built / "index.html"

    async def page() -> FileResponse:
        # Never cached: a new deploy's pages name new asset files.
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    app.add_api_route("/", page, include_in_schema=False)
    app.add_api_route("/app", page, include_in_schema=False)
    app.add_api_route("/app/{path:path}", page, include_in_schema=False)
    if (built / "assets").is_dir():
        app.mount("/assets", StaticFiles(directory=built / "assets"), name="assets")
    # The build's top-level files (its icon …), each at its own fixed path: nothing a
    # request sends chooses which file is read.
    for file in built.iterdir():
        if file.is_file() and file.name != "index.html":
            app.add_api_route(f"/{file.name}", _serve(file), include_in_schema=False)


def _serve(file: Path) -> Callable[[], Awaitable[FileResponse]]:
    async def serve() -> FileResponse:
        return FileResponse(file)

    return serve
