#!/usr/bin/env python3
"""Serves a directory with Debian's nginx on a free loopback port, from a
configuration of its own in a temporary directory (no global configuration,
log or state file is read or written).

    with Nginx(root) as server: ... server.base ...   (http://127.0.0.1:PORT)
                                ... server.cpu_seconds() ...
    nginx.py ROOT                                      serve until Ctrl-C
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

NGINX = "/usr/sbin/nginx"

CONFIG = """\
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  types {{ text/html html; text/plain txt; application/xml xml; }}
  default_type application/octet-stream;
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  client_body_temp_path {tmp}/body;
  proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi;
  scgi_temp_path {tmp}/scgi;
  server {{
    listen 127.0.0.1:{port};
    root {root};
    index index.html;
  }}
}}
"""


def _die_with_parent():
    """In the child, before exec: nginx gets SIGTERM (fast shutdown) if the
    process that started it dies without stopping it (killed, say)."""
    import ctypes
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Nginx:
    def __init__(self, root):
        self.root = os.path.abspath(root)
        self.proc = None
        self.tmp = None

    def start(self):
        for _ in range(5):
            self.tmp = tempfile.mkdtemp(prefix="glean-bench-nginx-")
            os.chmod(self.tmp, 0o755)
            self.port = free_port()
            conf = os.path.join(self.tmp, "nginx.conf")
            with open(conf, "w") as f:
                f.write(CONFIG.format(tmp=self.tmp, port=self.port, root=self.root))
            log = os.path.join(self.tmp, "error.log")
            self.proc = subprocess.Popen([NGINX, "-e", log, "-p", self.tmp, "-c", conf, "-g", "daemon off;"],
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                         preexec_fn=_die_with_parent)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                    self.base = "http://127.0.0.1:%d" % self.port
                    return self
                except OSError:
                    time.sleep(0.05)
            err = self.proc.stderr.read().decode() if self.proc.poll() is not None else "not listening after 10 s"
            self.stop()
            if "Address already in use" not in err:
                raise RuntimeError("nginx did not start: " + err)
        raise RuntimeError("nginx did not start: no free port")

    def cpu_seconds(self):
        """CPU seconds (user + system) used so far by the master and its workers."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % pid) as f:
                    stat = f.read()
            except OSError:
                continue
            fields = stat[stat.rfind(")") + 2:].split()  # from field 3 (state) on
            if int(pid) == self.proc.pid or int(fields[1]) == self.proc.pid:
                total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / tick

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful shutdown
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop nginx on kill too
    with Nginx(sys.argv[1]) as server:
        print(server.base, flush=True)
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass
