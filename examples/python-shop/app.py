"""python-shop: Slipway's example app in another language.

A tiny shop front served by Python's standard library alone. It listens on
PORT (Slipway sets it from port: in slipway.yaml; 5000 by default), answers
its health check on /health with the stack that serves it, and shows
APP_MESSAGE on its page, so that a release can be made by an environment
change alone.
"""

import html
import json
import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>python-shop</title></head>
<body>
<h1>python-shop</h1>
<p id="message">{message}</p>
<p>Served by <code id="stack">{stack}</code>.</p>
</body>
</html>
"""


class Handler(BaseHTTPRequestHandler):
    """Answers / (the page), /health (the health check) and 404 elsewhere."""

    server_version = "python-shop"

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        stack = os.environ.get("SLIPWAY_STACK", "")
        if path == "/health":
            self.send(200, "application/json", json.dumps({"status": "ok", "stack": stack}) + "\n")
        elif path == "/":
            message = os.environ.get("APP_MESSAGE", "Welcome to the shop.")
            body = PAGE.format(message=html.escape(message), stack=html.escape(stack or "an unnamed stack"))
            self.send(200, "text/html; charset=utf-8", body)
        else:
            self.send(404, "text/plain; charset=utf-8", "not found: " + path + "\n")

    def send(self, status, content_type, body):
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-App-Stack", os.environ.get("SLIPWAY_STACK", ""))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):  # one line per request, on stderr
        sys.stderr.write("%s %s\n" % (self.address_string(), format % args))


def main():
    port = int(os.environ.get("PORT", "5000"))
    server = ThreadingHTTPServer(("", port), Handler)
    # docker stop sends SIGTERM: stop serving and exit 0.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("python-shop listening on :%d" % port, flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
