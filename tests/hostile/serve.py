# serve.py — the hostile suite's site server: tests/hostile/site/ on
# 127.0.0.1, plus /slow/MS (a small page sent after MS milliseconds, for
# cases that need a handler to wait in glean.fetch while another page runs)
# and /big/BYTES (that many bytes of text, at most 64 MB).
# Prints its port, then serves until its parent goes away.
import http.server
import os
import sys
import threading
import time

root = sys.argv[1]
parent = os.getppid()


class Handler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *args, **kw):
        super().__init__(*args, directory=root, **kw)

    def log_message(self, *args):
        pass

    def send_body(self, body):
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path.startswith("/big/"):
            try:
                size = int(path[len("/big/"):])
            except ValueError:
                size = 0
            self.send_body(b"x" * min(size, 64 << 20))
            return
        if path.startswith("/slow/"):
            try:
                ms = int(path[len("/slow/"):])
            except ValueError:
                ms = 0
            time.sleep(min(ms, 30000) / 1000)
            self.send_body(b"<!doctype html><title>slow</title><p>slow</p>")
            return
        super().do_GET()


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that went away (a case killed, a fetch called off) is no news


server = Server(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)


def watch():
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


threading.Thread(target=watch, daemon=True).start()
server.serve_forever()
