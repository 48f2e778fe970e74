"""Secrets at rest: encrypted, tamper-evident, readable across key rotation."""

from __future__ import annotations

import pytest

from junction.secretbox import SecretBox, SecretDecryptionError

OLD = "old-secret-key-0123456789-0123456789"
NEW = "new-secret-key-9876543210-9876543210"


def test_round_trip_and_no_plaintext_in_the_ciphertext() -> None:
    box = SecretBox([NEW])
    ciphertext = box.encrypt("refresh-token-value")
    assert "refresh-token-value" not in ciphertext
    assert box.decrypt(ciphertext) == "refresh-token-value"
    assert box.decrypt_json(box.encrypt_json({"a": [1, 2]})) == {"a": [1, 2]}


def test_old_ciphertexts_stay_readable_after_a_new_key_is_added() -> None:
    old_ciphertext = SecretBox([OLD]).encrypt("kept")
    rotated_box = SecretBox([NEW, OLD])
    assert rotated_box.decrypt(old_ciphertext) == "kept"
    re_encrypted = rotated_box.rotate(old_ciphertext)
    assert SecretBox([NEW]).decrypt(re_encrypted) == "kept"
    assert SecretBox([NEW]).decrypt(rotated_box.encrypt("fresh")) == "fresh"


def test_a_wrong_key_or_altered_ciphertext_is_refused() -> None:
    ciphertext = SecretBox([OLD]).encrypt("x")
    with pytest.raises(SecretDecryptionError):
        SecretBox([NEW]).decrypt(ciphertext)
    tampered = ciphertext[:-4] + ("AAAA" if not ciphertext.endswith("AAAA") else "BBBB")
    with pytest.raises(SecretDecryptionError):
        SecretBox([OLD]).decrypt(tampered)


def test_a_key_is_required() -> None:
    with pytest.raises(ValueError, match="secret key"):
        SecretBox([""])
