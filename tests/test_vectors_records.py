"""Key schedules and protected records, byte for byte: RFC 8448 §3, the Illustrated
TLS 1.3 connection, and the generated TLS 1.2 AEAD records."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from tlsbench.crypto import Provider
from vectorlib import h, load


def rfc8448() -> Any:
    return load("rfc8448/rfc8448_s3_simple_1rtt.json")


def test_rfc8448_key_schedule(provider: Provider) -> None:
    d = rfc8448()
    ks_v, th = d["key_schedule"], d["derived_transcript_hashes"]
    suite = "TLS_AES_128_GCM_SHA256"
    ks = provider.KeySchedule(suite)
    assert ks.early_secret == h(ks_v["early_secret"])
    hs = ks.handshake_stage(
        h(d["key_schedule_inputs"]["ecdhe_shared_secret"]), h(th["client_hello..server_hello"])
    )
    assert hs.client_secret == h(ks_v["client_handshake_traffic_secret"])
    assert hs.server_secret == h(ks_v["server_handshake_traffic_secret"])
    tk = d["traffic_keys"]
    assert (hs.server_key, hs.server_iv) == (
        h(tk["server_handshake"]["key"]),
        h(tk["server_handshake"]["iv"]),
    )
    assert (hs.client_key, hs.client_iv) == (
        h(tk["client_handshake"]["key"]),
        h(tk["client_handshake"]["iv"]),
    )
    fin = d["finished"]
    assert hs.server_finished_key == h(fin["server"]["finished_key"])
    assert hs.client_finished_key == h(fin["client"]["finished_key"])
    assert provider.tls13_verify_data(
        "sha256", hs.server_finished_key, h(th["before_server_finished"])
    ) == h(fin["server"]["verify_data"])
    assert provider.tls13_verify_data(
        "sha256", hs.client_finished_key, h(th["before_client_finished"])
    ) == h(fin["client"]["verify_data"])
    ap = ks.application_stage(h(th["client_hello..server_finished"]))
    assert ap.client_secret == h(ks_v["client_application_traffic_secret_0"])
    assert ap.server_secret == h(ks_v["server_application_traffic_secret_0"])
    assert (ap.server_key, ap.server_iv) == (
        h(tk["server_application"]["key"]),
        h(tk["server_application"]["iv"]),
    )
    assert (ap.client_key, ap.client_iv) == (
        h(tk["client_application"]["key"]),
        h(tk["client_application"]["iv"]),
    )
    assert ks.exporter_master_secret(h(th["client_hello..server_finished"])) == h(
        ks_v["exporter_master_secret"]
    )
    rms = ks.resumption_master_secret(h(th["client_hello..client_finished"]))
    assert rms == h(ks_v["resumption_master_secret"])
    # RFC 8446 §4.6.1: the PSK of the ticket with nonce 0000.
    psk = provider.hkdf_expand_label("sha256", rms, b"resumption", h("0000"), 32)
    assert psk == h(ks_v["resumption_psk"])


def test_rfc8448_hkdf_examples(provider: Provider) -> None:
    d = rfc8448()
    for e in d["hkdf_extract_examples"]:
        assert provider.hkdf_extract("sha256", h(e["salt"]), h(e["ikm"])) == h(e["prk"])
    for e in d["hkdf_expand_label_examples"]:
        out = provider.hkdf_expand_label(
            "sha256", h(e["secret"]), e["label"].encode(), h(e["context"]), int(e["length"])
        )
        assert out == h(e["output"])
    for name, v in d["traffic_keys"].items():
        assert provider.tls13_traffic_keys(0x1301, h(v["secret"])) == (h(v["key"]), h(v["iv"])), (
            name
        )


def check_tls13_record(
    provider: Provider,
    suite: str,
    key: bytes,
    iv: bytes,
    seq: int,
    content_type: int,
    content: bytes,
    padding: int,
    record: bytes,
) -> None:
    sealer = provider.RecordCipher("1.3", suite, key, iv, sequence=seq)
    assert sealer.seal(content_type, content, padding=padding) == record
    assert sealer.sequence == seq + 1
    opener = provider.RecordCipher("1.3", suite, key, iv, sequence=seq)
    assert opener.open(record) == (content_type, content)
    # The same record through the calls that write into a caller's buffer.
    out = bytearray(len(record))
    sealer = provider.RecordCipher("1.3", suite, key, iv, sequence=seq)
    assert sealer.seal_into(content_type, content, out, padding=padding) == len(record)
    assert out == record
    opener = provider.RecordCipher("1.3", suite, key, iv, sequence=seq)
    assert opener.open_into(record, out) == (content_type, len(content))
    assert out[: len(content)] == content


def test_rfc8448_records(provider: Provider) -> None:
    d = rfc8448()
    protected = [r for r in d["records"] if r["protected"] in (True, "True")]
    assert len(protected) == 7
    for r in protected:
        x = r["derived"]
        inner = h(x["inner_plaintext"])
        check_tls13_record(
            provider,
            "TLS_AES_128_GCM_SHA256",
            h(x["key"]),
            h(x["iv"]),
            int(x["sequence_number"]),
            int(x["inner_content_type"]),
            inner[:-1],
            0,
            h(r["record"]),
        )


def illustrated() -> Any:
    return load("illustrated_tls/illustrated_tls13_aes256gcm_sha384.json")


def test_illustrated_tls13_key_schedule(provider: Provider) -> None:
    d = illustrated()
    ks_v, th, tk = d["key_schedule"], d["transcript_hashes"], d["traffic_keys"]
    for name, msgs in (("client_hello..server_hello", ["client_hello", "server_hello"]),):
        assert hashlib.sha384(b"".join(h(d["handshake_messages"][m]) for m in msgs)).digest() == h(
            th[name]
        )
    ks = provider.KeySchedule("TLS_AES_256_GCM_SHA384")
    assert ks.early_secret == h(ks_v["early_secret"])
    hs = ks.handshake_stage(h(ks_v["ecdhe_shared_secret"]), h(th["client_hello..server_hello"]))
    assert ks.handshake_secret == h(ks_v["handshake_secret"])
    assert (hs.server_key, hs.server_iv) == (
        h(tk["server_handshake"]["key"]),
        h(tk["server_handshake"]["iv"]),
    )
    assert (hs.client_key, hs.client_iv) == (
        h(tk["client_handshake"]["key"]),
        h(tk["client_handshake"]["iv"]),
    )
    msgs = d["handshake_messages"]
    before_sf = hashlib.sha384(
        b"".join(
            h(msgs[m])
            for m in (
                "client_hello",
                "server_hello",
                "encrypted_extensions",
                "certificate",
                "certificate_verify",
            )
        )
    ).digest()
    assert provider.tls13_verify_data("sha384", hs.server_finished_key, before_sf) == h(
        d["finished"]["server_verify_data"]
    )
    ap = ks.application_stage(h(th["client_hello..server_finished"]))
    assert ks.master_secret == h(ks_v["master_secret"])
    assert provider.tls13_verify_data(
        "sha384", hs.client_finished_key, h(th["client_hello..server_finished"])
    ) == h(d["finished"]["client_verify_data"])
    assert ap.client_secret == h(ks_v["client_application_traffic_secret_0"])
    assert (ap.client_key, ap.client_iv) == (
        h(tk["client_application"]["key"]),
        h(tk["client_application"]["iv"]),
    )
    assert ks.resumption_master_secret(h(th["client_hello..client_finished"])) == h(
        ks_v["resumption_master_secret"]
    )


def test_illustrated_tls13_records(provider: Provider) -> None:
    protected = [r for r in illustrated()["records"] if r["protected"] in (True, "True")]
    assert len(protected) == 9
    for r in protected:
        check_tls13_record(
            provider,
            "TLS_AES_256_GCM_SHA384",
            h(r["key"]),
            h(r["iv"]),
            int(r["sequence_number"]),
            int(r["inner_content_type"]),
            h(r["content"]),
            int(r["padding_length"]),
            h(r["record"]),
        )


def tls12_suites() -> list[Any]:
    return list(load("tls12_records/tls12_aead_records_generated.json")["suites"])


@pytest.mark.parametrize("index", range(3))
def test_tls12_generated_records(provider: Provider, index: int) -> None:
    s = tls12_suites()[index]
    kd, suite = s["key_derivation"], s["cipher_suite"]
    hash = s["prf_hash"].lower().replace("-", "")
    cr, sr = h(kd["client_random"]), h(kd["server_random"])
    if kd["extended_master_secret"] in (True, "True"):
        ms = provider.tls12_extended_master_secret(
            hash, h(kd["pre_master_secret"]), h(kd["session_hash"])
        )
    else:
        ms = provider.tls12_master_secret(hash, h(kd["pre_master_secret"]), cr, sr)
    assert ms == h(kd["master_secret"])
    keys = provider.tls12_key_block(suite, ms, cr, sr)
    assert keys == (
        h(kd["client_write_key"]),
        h(kd["server_write_key"]),
        h(kd["client_write_iv"]),
        h(kd["server_write_iv"]),
    )
    for r in s["records"]:
        key, iv, seq = h(r["write_key"]), h(r["write_iv"]), int(r["sequence_number"])
        record, plain, ctype = h(r["record"]), h(r["plaintext"]), int(r["content_type"])
        opener = provider.RecordCipher("1.2", suite, key, iv, sequence=seq)
        assert opener.open(record) == (ctype, plain)
        explicit = r.get("explicit_nonce")
        if explicit and h(explicit) != seq.to_bytes(8, "big"):
            continue  # we send the sequence number as the explicit nonce; this one does not
        sealer = provider.RecordCipher("1.2", suite, key, iv, sequence=seq)
        assert sealer.seal(ctype, plain) == record
