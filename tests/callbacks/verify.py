#!/usr/bin/env python3
"""Verifies one Standard Webhooks request, independently of civicpost's Rust code.

Written from the specification (github.com/standard-webhooks, "Verifying webhooks"), with
the Python standard library only: the signed content is "{webhook-id}.{webhook-timestamp}.{body}",
the key is the base64-decoded part of the secret after "whsec_", and webhook-signature is a
space-separated list of "v1,<base64 HMAC-SHA256>".

Usage: verify.py SECRET < request.json, where request.json is
{"headers": {"webhook-id": ..., ...}, "body_b64": "<base64 of the exact body bytes>"}.
Prints the parsed body as JSON and exits 0 when the request is authentic; prints the reason
and exits 1 otherwise.
"""

import base64
import hashlib
import hmac
import json
import sys
import time

TOLERANCE_SECONDS = 5 * 60


def verify(secret: str, headers: dict, body: bytes) -> dict:
    headers = {k.lower(): v for k, v in headers.items()}
    msg_id = headers["webhook-id"]
    timestamp = headers["webhook-timestamp"]
    signatures = headers["webhook-signature"]
    if not timestamp.isdigit():
        raise ValueError("webhook-timestamp is not unix seconds")
    if abs(time.time() - int(timestamp)) > TOLERANCE_SECONDS:
        raise ValueError("webhook-timestamp is too far from now")
    if not secret.startswith("whsec_"):
        raise ValueError("secret lacks the whsec_ prefix")
    key = base64.b64decode(secret[len("whsec_"):], validate=True)
    signed = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for candidate in signatures.split(" "):
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return json.loads(body)
    raise ValueError("no v1 signature matches")


def main() -> int:
    request = json.load(sys.stdin)
    body = base64.b64decode(request["body_b64"])
    try:
        payload = verify(sys.argv[1], request["headers"], body)
    except (KeyError, ValueError) as e:
        print(f"invalid: {e}")
        return 1
    print(json.dumps(payload))
    return 0


if __name__ == "__main__":
    sys.exit(main())
