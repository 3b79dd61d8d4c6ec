"""gunicorn settings for the `web` process; environment variables override the defaults."""

import gc
import ipaddress
import multiprocessing
import os

bind = os.environ.get("BIND", f"127.0.0.1:{os.environ.get('PORT', '5000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("WEB_THREADS", "1"))
timeout = int(os.environ.get("WEB_TIMEOUT", "30"))
graceful_timeout = 20
# Load the app (and the directory with its search index) once, before the workers fork: start-up pays
# for it once, and the workers share its memory. redis-py resets its connection pools after a fork.
preload_app = True
keepalive = 5
# Request paths can carry tokens (/o/<token>); the app logs routes, never paths, so gunicorn logs none.
accesslog = None
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn 25.1 and later open a control socket (for `gunicornc`: add or remove workers, reload, stop) at one
# path per user, so servers started by the same user take it over from each other. Off unless an operator
# names a path for this server. Older gunicorn versions ignore both settings.
control_socket = os.environ.get("WEB_CONTROL_SOCKET", "")
control_socket_disable = not control_socket


def pre_fork(server, worker):  # noqa: ARG001 (gunicorn's hook signature)
    """Move the preloaded app's objects out of the garbage collector's reach before forking.

    They live as long as the process does. Left in, every collection in a worker walks the whole directory
    and, by touching each object, copies the master's memory page by page into the worker (copy-on-write).
    """
    gc.freeze()


def on_starting(server):
    """Development and testing settings serve only this machine's own addresses.

    Those settings have a SECRET_KEY that is in the source code (anyone can sign a session with it) and an open
    development outbox; an install that forgot LOKETLIJN_ENV=production must not put them on a network.
    """
    environment = os.environ.get("LOKETLIJN_ENV", "development")
    if environment == "production":
        return
    exposed = [_shown(address) for address in server.cfg.address if not _is_local(address)]
    if exposed:
        raise SystemExit(f"Refusing to start: LOKETLIJN_ENV is {environment!r}, whose settings are not safe on a "
                         f"network, but gunicorn would listen on {', '.join(exposed)}. Set LOKETLIJN_ENV=production "
                         f"(see docs/deploy.md) or bind to 127.0.0.1.")


def _is_local(address) -> bool:
    """A loopback address or a unix socket; not a host name (it may resolve to any address) nor a socket
    handed over by systemd (fd://N: it may listen anywhere)."""
    if isinstance(address, str):
        return True  # unix socket path
    if not isinstance(address, tuple):
        return False
    try:
        return address[0] == "localhost" or ipaddress.ip_address(address[0]).is_loopback
    except ValueError:
        return False


def _shown(address) -> str:
    return f"{address[0]}:{address[1]}" if isinstance(address, tuple) else f"fd://{address}"
