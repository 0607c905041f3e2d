"""The sandbox's own WXBizMsgCrypt: what the WeChat platform does to a callback body.

The sandbox is a separate world from govwx, so it carries its own small implementation
instead of sharing govwx's: two independent implementations that must agree (and a third,
wechatpy, in the tests) catch mistakes a shared one would hide.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32  # WeChat pads to 32 bytes although AES blocks are 16.


class CryptoError(Exception):
    """A body that fails signature, padding, length or AppID checks."""


def signature(*parts: str) -> str:
    """SHA-1 over the sorted parts joined with nothing (URL and message signatures)."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def signature_matches(expected: str, *parts: str) -> bool:
    """Constant-time comparison, so that a peer cannot probe the signature byte by byte."""
    return hmac.compare_digest(expected.encode(), signature(*parts).encode())


def decode_key(encoding_aes_key: str) -> bytes:
    """43 base64 characters + '=' → 32 bytes; the 2 spare bits are ignored, as WeChat does."""
    if len(encoding_aes_key) != 43 or not encoding_aes_key.isalnum():
        raise CryptoError("EncodingAESKey must be 43 letters or digits")
    try:
        key = base64.b64decode(encoding_aes_key + "=")
    except binascii.Error as exc:
        raise CryptoError("EncodingAESKey is not base64") from exc
    return key


def pad(data: bytes) -> bytes:
    n = BLOCK - len(data) % BLOCK
    return data + bytes([n]) * n


def unpad(data: bytes) -> bytes:
    """Strict PKCS#7/32: every pad byte must equal the pad length, 1..32."""
    if not data:
        raise CryptoError("empty plaintext")
    n = data[-1]
    if not 1 <= n <= BLOCK or n > len(data) or data[-n:] != bytes([n]) * n:
        raise CryptoError("bad padding")
    return data[:-n]


@dataclass(frozen=True)
class MessageCrypto:
    """One account's token, key and AppID: everything needed to seal and open bodies."""

    token: str
    encoding_aes_key: str
    appid: str

    def _cipher(self) -> Cipher[modes.CBC]:
        key = decode_key(self.encoding_aes_key)
        return Cipher(algorithms.AES(key), modes.CBC(key[:16]))

    def encrypt(self, xml: str, random: bytes | None = None) -> str:
        """Return the base64 `Encrypt` value; `random` is fixed only by the test vectors."""
        body = xml.encode()
        rand = random if random is not None else os.urandom(16)
        plain = rand + struct.pack(">I", len(body)) + body + self.appid.encode()
        encryptor = self._cipher().encryptor()
        return base64.b64encode(encryptor.update(pad(plain)) + encryptor.finalize()).decode()

    def decrypt(self, encrypted: str) -> str:
        """Open an `Encrypt` value, checking padding, length and the trailing AppID."""
        try:
            raw = base64.b64decode(encrypted, validate=True)
        except binascii.Error as exc:
            raise CryptoError("Encrypt is not base64") from exc
        if not raw or len(raw) % 16:
            raise CryptoError("ciphertext length is not a multiple of 16")
        decryptor = self._cipher().decryptor()
        plain = unpad(decryptor.update(raw) + decryptor.finalize())
        if len(plain) < 20:
            raise CryptoError("plaintext too short")
        (length,) = struct.unpack(">I", plain[16:20])
        if length > len(plain) - 20:
            raise CryptoError("length field exceeds plaintext")
        body, appid = plain[20 : 20 + length], plain[20 + length :]
        if not hmac.compare_digest(appid, self.appid.encode()):
            raise CryptoError("AppID mismatch")
        try:
            return body.decode()
        except UnicodeDecodeError as exc:
            raise CryptoError("body is not UTF-8") from exc

    def msg_signature(self, timestamp: str, nonce: str, encrypted: str) -> str:
        return signature(self.token, timestamp, nonce, encrypted)
