"""Serve pywb (its FrontEndApp, as `wayback` does) from the collections/ of the current directory on a free loopback
port, and print its URL (after whatever pywb says while it starts). The pywb fixture runs it in a subprocess: pywb patches the whole process with gevent."""

from gevent.monkey import patch_all

patch_all()

from gevent.pywsgi import WSGIServer  # noqa: E402 (after the patch, as in pywb's own entry points)
from pywb.apps.frontendapp import FrontEndApp  # noqa: E402


def main() -> None:
    server = WSGIServer(("127.0.0.1", 0), FrontEndApp(), log=None)
    server.init_socket()
    print(f"pywb serving at http://127.0.0.1:{server.server_port}/", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
