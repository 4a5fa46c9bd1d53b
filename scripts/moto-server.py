#!/usr/bin/env python3
"""moto's server with every request served one at a time: `moto-server.py [-H HOST] [-p PORT] [--ssl-cert C --ssl-key K]`.

moto's own `moto_server` answers requests on parallel threads without a lock, so two conditional writes to one
DynamoDB item racing in from separate clients can both pass their condition (seen here: two winners of eight).
Real DynamoDB applies the writes to one item one after another. Serialising the whole app gives moto that
guarantee, so the races our tests run measure our code, not moto's threading. Connections stay concurrent
(keep-alive, threads); only the handling of a request holds the lock.
"""
import argparse
import signal
import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    parser.add_argument("--ssl-cert")
    parser.add_argument("--ssl-key")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def serialised(environ, start_response):
        with lock:
            # Consume the whole answer inside the lock: WSGI apps may do their work lazily.
            return [b"".join(app(environ, start_response))]

    ssl_context = (args.ssl_cert, args.ssl_key) if args.ssl_cert and args.ssl_key else None
    run_simple(args.host, args.port, serialised, threaded=True, use_reloader=False, ssl_context=ssl_context)


if __name__ == "__main__":
    main()
