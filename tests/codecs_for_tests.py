"""A user codec, built by spec string in every interpreter. Stdlib only."""

from __future__ import annotations

import json
from typing import Any


class JsonCodec:
    spec = "codecs_for_tests:json_codec"

    def encode(self, obj: Any) -> bytes:
        return json.dumps(obj).encode()

    def decode(self, data: Any) -> Any:
        value = json.loads(data)
        if isinstance(value, list) and len(value) == 2 and isinstance(value[0], list):
            # (args, kwargs) travels as [[...], kwargs]: rebuild the args tuple
            return tuple(value[0]), value[1]
        return value


def json_codec() -> JsonCodec:
    return JsonCodec()
