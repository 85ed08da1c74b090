"""A recording network guard for the processes the tests start: this machine's loopback only.

Python imports ``sitecustomize`` at startup from the first directory on its path that has one, so
a process started with this directory first on ``PYTHONPATH`` and ``NETGUARD_RECORD`` naming a
file refuses, and records as one JSON line in that file (see ``tests/localsite.py``):

- a connection (``socket.connect``/``connect_ex``) to an address outside 127.0.0.0/8 and ::1;
- a name lookup (``getaddrinfo``, ``gethostbyname(_ex)``, ``gethostbyaddr``) of a name other
  than ``localhost`` (IP addresses are not looked up: connecting to them is what counts).

Unix sockets are allowed. The guard creates the record file when it loads, so an existing, empty
file proves that the process ran guarded and tried to reach nothing off this machine. A refused
connection fails with ``ENETUNREACH``, a refused lookup with ``EAI_NONAME``, as on a machine
without a network. Any ``sitecustomize`` later on the path is loaded too.
"""

from __future__ import annotations

import errno
import importlib.util
import ipaddress
import json
import os
import socket
import sys
import traceback
from pathlib import Path
from typing import Any

RECORD_VARIABLE = "NETGUARD_RECORD"
_LOCAL_NAMES = frozenset({"localhost", "localhost.", "ip6-localhost"})


def _is_loopback(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


def _record(record: Path, kind: str, target: str) -> None:
    """Append one line: what was tried, by which process, from where in the code."""
    caller = next((f"{frame.filename}:{frame.lineno}" for frame in reversed(traceback.extract_stack()[:-2])
                   if "netguard" not in frame.filename), "?")
    line = json.dumps({"kind": kind, "target": target, "pid": os.getpid(), "argv": sys.argv[:3], "caller": caller})
    fd = os.open(record, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)


def _host_text(host: Any) -> str | None:
    if host is None:
        return None
    return host.decode("idna", "replace") if isinstance(host, (bytes, bytearray)) else str(host)


def install(record: Path) -> None:
    """Wrap the socket module's connect and lookup functions for this process."""
    record.touch()
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_getaddrinfo, real_byname, real_byname_ex = socket.getaddrinfo, socket.gethostbyname, socket.gethostbyname_ex
    real_byaddr = socket.gethostbyaddr

    def refused_target(sock: socket.socket, address: Any) -> str | None:
        if sock.family not in (socket.AF_INET, socket.AF_INET6) or not isinstance(address, tuple):
            return None
        host = _host_text(address[0]) or ""
        if _is_loopback(host):
            return None
        return f"{host}:{address[1]}"

    def connect(self: socket.socket, address: Any) -> None:
        target = refused_target(self, address)
        if target:
            _record(record, "connect", target)
            raise OSError(errno.ENETUNREACH, f"netguard: no network beyond loopback ({target})")
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        target = refused_target(self, address)
        if target:
            _record(record, "connect", target)
            return errno.ENETUNREACH
        return real_connect_ex(self, address)

    def looked_up(host: Any) -> None:
        name = _host_text(host)
        if not name or name.lower() in _LOCAL_NAMES or _is_address(name):
            return
        _record(record, "dns", name)
        raise socket.gaierror(socket.EAI_NONAME, f"netguard: no name lookups ({name})")

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        looked_up(host)
        return real_getaddrinfo(host, *args, **kwargs)

    def gethostbyname(host: str) -> str:
        looked_up(host)
        return real_byname(host)

    def gethostbyname_ex(host: str) -> Any:
        looked_up(host)
        return real_byname_ex(host)

    def gethostbyaddr(host: str) -> Any:
        if not _is_loopback(_host_text(host) or ""):
            looked_up(host)
        return real_byaddr(host)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = getaddrinfo
    socket.gethostbyname = gethostbyname
    socket.gethostbyname_ex = gethostbyname_ex
    socket.gethostbyaddr = gethostbyaddr


def _load_next_sitecustomize() -> None:
    """Run the ``sitecustomize`` this one shadows, if the path has another."""
    here = Path(__file__).resolve().parent
    for entry in sys.path:
        if not entry or Path(entry).resolve() == here:
            continue
        candidate = Path(entry) / "sitecustomize.py"
        if candidate.is_file():
            spec = importlib.util.spec_from_file_location("_netguard_shadowed_sitecustomize", candidate)
            if spec and spec.loader:
                spec.loader.exec_module(importlib.util.module_from_spec(spec))
            return


if os.environ.get(RECORD_VARIABLE):
    install(Path(os.environ[RECORD_VARIABLE]))
_load_next_sitecustomize()
