"""The web pages as a Rasa input channel: demo shop, widget files, console, vendor files.

Files come from `web/static/`; `/` redirects to the shop. Rasa's server already answers
`/` ("Hello from Rasa"), so the redirect is an app-wide request middleware for that one
path rather than a second route.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Optional

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from web import static_files
from web.http import CONSOLE_HEADERS, PAGE_HEADERS, error

STATIC = Path(__file__).resolve().parent / "static"
NOT_FOUND = "There is no such page."


class _PagesBlueprint(Blueprint):
    def register(self, app: Sanic, options: Dict[str, Any]) -> None:
        async def root_to_shop(request: Request) -> Optional[HTTPResponse]:
            if request.path == "/" and request.method in ("GET", "HEAD"):
                return response.redirect("/shop/")
            return None

        app.register_middleware(root_to_shop, "request")
        super().register(app, options)


class PagesInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "heard_pages"

    def __init__(self, root: Path = STATIC):
        self.root = root

    def url_prefix(self) -> str:
        return "/"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = _PagesBlueprint("heard_pages", __name__)

        async def serve(folder: str, relative: str, headers: Dict[str, str]) -> HTTPResponse:
            if relative == "" or relative.endswith("/"):  # a folder: its index page
                relative += "index.html"
            path = static_files.resolve(self.root / folder, relative)
            if path is None:
                return error(404, NOT_FOUND)
            return await response.file(
                path, mime_type=static_files.content_type(path), headers=headers
            )

        @bp.get("/shop/")
        async def shop(request: Request) -> HTTPResponse:
            return await serve("shop", "index.html", PAGE_HEADERS)

        @bp.get("/shop/<relative:path>")
        async def shop_file(request: Request, relative: str) -> HTTPResponse:
            return await serve("shop", relative, PAGE_HEADERS)

        @bp.get("/widget/<relative:path>")
        async def widget_file(request: Request, relative: str) -> HTTPResponse:
            return await serve("widget", relative, PAGE_HEADERS)

        @bp.get("/vendor/<relative:path>")
        async def vendor_file(request: Request, relative: str) -> HTTPResponse:
            return await serve("vendor", relative, PAGE_HEADERS)

        @bp.get("/console/")
        async def console(request: Request) -> HTTPResponse:
            return await serve("console", "index.html", CONSOLE_HEADERS)

        @bp.get("/console/<relative:path>")
        async def console_file(request: Request, relative: str) -> HTTPResponse:
            if relative.startswith("api/"):  # API paths never fall back to files
                return error(404, NOT_FOUND)
            return await serve("console", relative, CONSOLE_HEADERS)

        return bp
