"""A minimal CBOR (RFC 8949) decoder for WebAuthn attestation objects and COSE keys.

Only what WebAuthn needs, strictly: definite lengths only (CTAP2 canonical CBOR never uses indefinite ones),
map keys of type int, text or bytes without duplicates, bounded nesting, and every length checked against the
bytes actually present before anything is allocated. Tags are returned as Tag objects; simple values other
than false/true/null/undefined and floats are refused.
"""

import struct
from dataclasses import dataclass

MAX_DEPTH = 16


class CborError(ValueError):
    pass


@dataclass(frozen=True)
class Tag:
    number: int
    value: object


UNDEFINED = object()  # CBOR "undefined" (simple value 23); None is CBOR null


def decode_prefix(data: bytes, offset: int = 0):
    """Decodes the one data item that starts at `offset`; returns (value, offset just after it)."""
    return _Decoder(bytes(data)).item(offset, 0)


def decode(data: bytes):
    """Decodes `data`, which must hold exactly one data item."""
    value, end = decode_prefix(data)
    if end != len(data):
        raise CborError(f"{len(data) - end} byte(s) after the CBOR data item")
    return value


class _Decoder:
    def __init__(self, data: bytes):
        self.data = data

    def _take(self, offset: int, length: int) -> bytes:
        if length < 0 or offset + length > len(self.data):
            raise CborError(f"truncated: {length} byte(s) needed at offset {offset}, "
                            f"{max(len(self.data) - offset, 0)} left")
        return self.data[offset:offset + length]

    def _argument(self, info: int, offset: int):
        """The head's argument for additional information `info`; returns (argument, offset after the head)."""
        if info < 24:
            return info, offset
        if info in (24, 25, 26, 27):
            size = 1 << (info - 24)
            return int.from_bytes(self._take(offset, size), "big"), offset + size
        if info == 31:
            raise CborError("indefinite-length items are not allowed")
        raise CborError(f"reserved additional information {info}")

    def item(self, offset: int, depth: int):
        if depth > MAX_DEPTH:
            raise CborError(f"nested deeper than {MAX_DEPTH}")
        initial = self._take(offset, 1)[0]
        major, info = initial >> 5, initial & 0x1F
        offset += 1
        if major == 7:
            return self._simple(info, offset)
        argument, offset = self._argument(info, offset)
        if major == 0:
            return argument, offset
        if major == 1:
            return -1 - argument, offset
        if major in (2, 3):
            raw = self._take(offset, argument)
            if major == 2:
                return raw, offset + argument
            try:
                return raw.decode("utf-8"), offset + argument
            except UnicodeDecodeError as e:
                raise CborError(f"text string is not UTF-8: {e}") from e
        if major == 4:
            # Each element takes at least one byte: a count larger than what is left is refused up front.
            self._take(offset, argument)
            items = []
            for _ in range(argument):
                value, offset = self.item(offset, depth + 1)
                items.append(value)
            return items, offset
        if major == 5:
            self._take(offset, 2 * argument)
            result = {}
            for _ in range(argument):
                key, offset = self.item(offset, depth + 1)
                if not isinstance(key, (int, str, bytes)) or isinstance(key, bool):
                    raise CborError(f"map key of type {type(key).__name__} is not allowed")
                if key in result:
                    raise CborError(f"duplicate map key {key!r}")
                result[key], offset = self.item(offset, depth + 1)
            return result, offset
        # major == 6
        value, offset = self.item(offset, depth + 1)
        return Tag(argument, value), offset

    def _simple(self, info: int, offset: int):
        if info == 20:
            return False, offset
        if info == 21:
            return True, offset
        if info == 22:
            return None, offset
        if info == 23:
            return UNDEFINED, offset
        if info == 25:
            return struct.unpack(">e", self._take(offset, 2))[0], offset + 2
        if info == 26:
            return struct.unpack(">f", self._take(offset, 4))[0], offset + 4
        if info == 27:
            return struct.unpack(">d", self._take(offset, 8))[0], offset + 8
        if info == 31:
            raise CborError("unexpected break")
        raise CborError(f"unsupported simple value (additional information {info})")
