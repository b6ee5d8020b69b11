"""Decode a response body as it streams, never holding more than the cap.

We ask for `Accept-Encoding: identity`, but a server or a proxy may compress anyway. httpx
would decode a whole network read at once (980 bytes of `gzip, gzip` can become gigabytes),
so the clients read raw bytes and decode them here with zlib's `max_length`: every layer's
output, and the raw input, stop at the cap. Pure: bytes in, bytes out, no I/O.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping

from ..errors import InvalidResponseError

#: More stacked encodings than this is not a real server (each layer costs a zlib window).
MAX_LAYERS = 2
_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


def content_encodings(headers: Mapping[str, str]) -> list[str]:
    """The encodings applied to the body, in the order they were applied."""
    names: list[str] = []
    for name, value in headers.items():
        if name.lower() == "content-encoding":
            names += [part.strip().lower() for part in value.split(",") if part.strip()]
    return [name for name in names if name != "identity"]


class _Layer:
    """One zlib stream whose total output is capped."""

    def __init__(self, encoding: str, cap: int) -> None:
        self._encoding = encoding
        self._obj = zlib.decompressobj(_WBITS[encoding])
        self._room = cap + 1  # one byte past the cap is how we learn it was exceeded
        self._started = False

    @property
    def full(self) -> bool:
        return self._room <= 0

    def feed(self, data: bytes) -> bytes:
        if self.full or self._obj.eof or not data:
            return b""
        try:
            out = self._obj.decompress(data, self._room)
        except zlib.error:
            if self._encoding == "deflate" and not self._started:
                # Some servers send raw deflate without the zlib header (httpx allows it too).
                self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
                self._started = True
                return self.feed(data)
            raise InvalidResponseError(
                f"The API answer's {self._encoding} encoding is corrupt; "
                "check that --base-url points at the pre.dev API."
            ) from None
        self._started = True
        self._room -= len(out)
        # What max_length left unread stays in `unconsumed_tail`; it is at most `data`, and is
        # dropped once the layer is full, which ends the read anyway.
        while not self.full and self._obj.unconsumed_tail and not self._obj.eof:
            more = self._obj.decompress(self._obj.unconsumed_tail, self._room)
            if not more:
                break
            self._room -= len(more)
            out += more
        return out


class BoundedDecoder:
    """Feed raw body bytes; get decoded bytes; `exceeded` once anything passed `cap` bytes."""

    def __init__(self, headers: Mapping[str, str], cap: int) -> None:
        encodings = content_encodings(headers)
        unknown = [name for name in encodings if name not in _WBITS]
        if unknown or len(encodings) > MAX_LAYERS:
            shown = ", ".join(encodings)[:60]
            raise InvalidResponseError(
                f"The API answer uses an unsupported Content-Encoding ({shown}) although "
                "identity was asked for; check that --base-url points at the pre.dev API."
            )
        self._cap = cap
        self._raw = 0
        self._out = 0
        # Decoding undoes the encodings in reverse order of application.
        self._layers = [_Layer(name, cap) for name in reversed(encodings)]

    @property
    def exceeded(self) -> bool:
        return self._raw > self._cap or self._out > self._cap or any(x.full for x in self._layers)

    def feed(self, raw: bytes) -> bytes:
        self._raw += len(raw)
        data = raw[: self._cap + 1]
        for layer in self._layers:
            data = layer.feed(data)
        data = data[: self._cap + 1 - self._out]
        self._out += len(data)
        return data
