"""A local HTTP server on 127.0.0.1 for download tests: started and stopped by each test."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Server:
    """Routes: path -> bytes. Behaviour per path: "cut" closes the first response half-way,
    "chunked-cut" sends it chunked and drops it half-way, "error" answers 500, "norange"
    ignores Range, "html" answers with an HTML page, "gdrive" serves a Drive-style
    confirmation form first, "gdrive-quota" that form then a quota page, "elsewhere"
    redirects to the same path under /moved on another host name (localhost). Every request
    is logged, with its Authorization header."""

    def __init__(self) -> None:
        self.routes: dict[str, bytes] = {}
        self.behaviour: dict[str, str] = {}
        self.log: list[tuple[str, str | None]] = []
        self.authorization: list[str | None] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                path, _, query = self.path.partition("?")
                server.log.append((self.path, self.headers.get("Range")))
                server.authorization.append(self.headers.get("Authorization"))
                mode = server.behaviour.get(path)
                if mode == "error":
                    self.send_error(500)
                    return
                if mode == "elsewhere":
                    self.send_response(302)
                    port = server.httpd.server_address[1]
                    self.send_header("Location", f"http://localhost:{port}/moved{path}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if mode == "html" or (mode == "gdrive-quota" and "confirm=t" in query):
                    page = b"<html><body>Quota exceeded</body></html>"
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(len(page)))
                    self.end_headers()
                    self.wfile.write(page)
                    return
                if mode in ("gdrive", "gdrive-quota") and "confirm=t" not in query:
                    page = (
                        b'<html><form id="download-form" action="/gdrive" method="get">'
                        b'<input type="hidden" name="id" value="abc">'
                        b'<input type="hidden" name="confirm" value="t">'
                        b'<input type="hidden" name="uuid" value="u1"></form></html>'
                    )
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Length", str(len(page)))
                    self.end_headers()
                    self.wfile.write(page)
                    return
                data = server.routes.get(path)
                if data is None:
                    self.send_error(404)
                    return
                start = 0
                ranged = self.headers.get("Range")
                if ranged and mode != "norange":
                    start = int(ranged.split("=")[1].split("-")[0])
                    if start >= len(data):
                        self.send_error(416)
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                body = data[start:]
                if mode == "chunked-cut":  # one chunk, announced whole, half of it sent
                    server.behaviour[path] = "served"
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    self.wfile.write(f"{len(body):x}\r\n".encode() + body[: len(body) // 2])
                    self.wfile.flush()
                    self.connection.close()
                    return
                self.send_header("Content-Length", str(len(data) - start))
                self.end_headers()
                if mode == "cut":
                    server.behaviour[path] = "served"  # only the first response is cut
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.connection.close()
                    return
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
