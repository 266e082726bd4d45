"""The other side of the interop tests, run with .venv-peer/bin/python (bovine needs an older
`cryptography` than Kenoma). It reads a JSON list of actions on stdin and writes a JSON list of
results on stdout; everything it signs or verifies goes through bovine's own code:

    {"action": "post", "url", "key_id", "private_pem", "body"}  -> {"status", "text"}
        bovine's signed POST (draft-cavage, `digest`, `content-type` signed)
    {"action": "get", "url", "key_id", "private_pem"}           -> {"status", "text"}
        bovine's signed GET
    {"action": "sign", "url", "key_id", "private_pem", "body"}  -> {"headers"}
        the headers bovine's signed POST would send, for the test to send (or tamper with)
    {"action": "verify", "method", "url", "headers", "body"}    -> {"owner"}
        bovine's SignatureChecker on a request Kenoma made; the key is fetched from its keyId
        as a fediverse server would, `owner` is null when the signature does not verify.
"""

from __future__ import annotations

import asyncio
import json
import sys

import aiohttp
from bovine.clients.signed_http import SignedHttpClient
from bovine.clients.signed_http import legacy_digest_method
from bovine.clients.utils import host_target_from_url
from bovine.crypto.http_signature import build_signature
from bovine.crypto.signature_checker import SignatureChecker
from bovine.crypto.types import CryptographicIdentifier
from bovine.crypto.types import CryptographicSecret
from bovine.utils import get_gmt_now

ACCEPT = "application/activity+json"


async def _key_retriever(session: aiohttp.ClientSession, key_id: str) -> CryptographicIdentifier | None:
    async with session.get(key_id.split("#", 1)[0], headers={"Accept": ACCEPT}) as response:
        if response.status != 200:
            return None
        document = await response.json(content_type=None)
    key = document.get("publicKey", document)
    if key.get("id") != key_id:
        return None
    return CryptographicIdentifier.from_pem(key["publicKeyPem"], key["owner"])


def _signed_headers(action: dict) -> dict:
    """What bovine's signed_post puts on a POST, built with the same bovine helpers."""
    host, target = host_target_from_url(action["url"])
    digest_name, digest = legacy_digest_method(action["body"].encode())
    helper = (
        build_signature(host, "post", target)
        .with_field("date", get_gmt_now())
        .with_field(digest_name, digest)
        .with_field("content-type", ACCEPT)
    )
    secret = CryptographicSecret.from_pem(action["key_id"], action["private_pem"])
    return {**helper.headers, "signature": helper.sign_for_http_draft(secret)}


async def _run(session: aiohttp.ClientSession, action: dict) -> dict:
    kind = action["action"]
    if kind in ("post", "get"):
        client = SignedHttpClient(session, action["key_id"], action["private_pem"])
        if kind == "post":
            response = await client.post(action["url"], action["body"])
        else:
            response = await client.get(action["url"])
        return {"status": response.status, "text": await response.text()}
    if kind == "sign":
        return {"headers": _signed_headers(action)}
    if kind == "verify":

        async def retrieve(key_id: str) -> CryptographicIdentifier | None:
            return await _key_retriever(session, key_id)

        async def body() -> bytes:
            return action["body"].encode()

        headers = {name.lower(): value for name, value in action["headers"].items()}
        owner = await SignatureChecker(retrieve).validate_signature(
            action["method"], action["url"], headers, body
        )
        return {"owner": owner}
    raise ValueError(f"unknown action {kind}")


async def main() -> None:
    actions = json.load(sys.stdin)
    async with aiohttp.ClientSession() as session:
        results = [await _run(session, action) for action in actions]
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    asyncio.run(main())
