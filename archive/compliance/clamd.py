"""A client of clamd (ClamAV's daemon) speaking its INSTREAM protocol, for the four-property check's
virus scan (ARCHIVE_CLAMD). Standard library only: the maintained Python clients of clamd are thin
wrappers over these few lines, and streaming chunk by chunk is what lets the check scan an original in
the same pass that hashes it.

The protocol (clamd(8)): send `zINSTREAM\\0`, then chunks as a 4-byte big-endian length and the bytes,
then a zero length; clamd answers `stream: OK\\0`, `stream: NAME FOUND\\0` or `... ERROR\\0` (e.g.
"INSTREAM size limit exceeded", past its StreamMaxLength).
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

TIMEOUT = 60.0
_MAX_CHUNK = 1 << 20


class ClamdError(OSError):
    """clamd is unreachable or answered something other than a verdict."""


@dataclass(frozen=True)
class Verdict:
    clean: bool
    signature: str = ""  # the virus name when not clean


def parse_address(address: str) -> tuple[int, str | tuple[str, int]]:
    """ARCHIVE_CLAMD as a socket family and address: `unix:/path`, `/path`, `tcp://host:port`, `host:port`."""
    address = address.strip()
    if address.startswith("unix:"):
        return socket.AF_UNIX, address.removeprefix("unix:").removeprefix("//")
    if address.startswith("/"):
        return socket.AF_UNIX, address
    host, _, port = address.removeprefix("tcp://").rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"ARCHIVE_CLAMD={address!r} is not unix:/path, /path, tcp://host:port or host:port")
    return socket.AF_INET, (host.strip("[]"), int(port))


class ClamdScan:
    """One INSTREAM scan: `feed` the bytes as they are read, then `verdict`. Close it if abandoned."""

    def __init__(self, address: str, timeout: float = TIMEOUT) -> None:
        family, target = parse_address(address)
        self._socket = socket.socket(family, socket.SOCK_STREAM)
        self._socket.settimeout(timeout)
        try:
            self._socket.connect(target)
            self._socket.sendall(b"zINSTREAM\0")
        except OSError as error:
            self._socket.close()
            raise ClamdError(f"clamd at {address}: {error}") from None
        self._failed: OSError | None = None

    def feed(self, data: bytes | memoryview) -> None:
        if self._failed:
            return
        view = memoryview(data)
        try:
            for start in range(0, len(view), _MAX_CHUNK):
                piece = view[start:start + _MAX_CHUNK]
                self._socket.sendall(struct.pack("!L", len(piece)) + piece)
        except OSError as error:  # clamd hangs up past its StreamMaxLength: its answer says why
            self._failed = error

    def verdict(self) -> Verdict:
        """clamd's answer; raises ClamdError for an error answer or a broken connection."""
        try:
            if not self._failed:
                self._socket.sendall(struct.pack("!L", 0))
            answer = b""
            while not answer.endswith(b"\0"):
                chunk = self._socket.recv(4096)
                if not chunk:
                    break
                answer += chunk
        except OSError as error:
            raise ClamdError(f"clamd: {self._failed or error}") from None
        finally:
            self.close()
        text = answer.rstrip(b"\0").decode("utf-8", "replace").strip()
        _, _, result = text.partition(": ")
        if result == "OK":
            return Verdict(True)
        if result.endswith(" FOUND"):
            return Verdict(False, result.removesuffix(" FOUND"))
        raise ClamdError(f"clamd: {text or self._failed or 'no answer'}")

    def close(self) -> None:
        self._socket.close()


def scan_bytes(address: str, data: bytes) -> Verdict:
    """Scan bytes held in memory (tests, one-off checks)."""
    scan = ClamdScan(address)
    scan.feed(data)
    return scan.verdict()
