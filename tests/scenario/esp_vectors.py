"""Published ESP known-answer packets (data only), fed inbound through the real pipeline.

Each vector is a whole ESP packet (SPI .. ICV) with its keys and the inner IPv4 packet it must
decrypt to. The outer IPv4 header of the original is not covered by the ICV, so the scenario
puts the packet behind its own outer header (peer -> gateway).

Source of the bytes: DPDK app/test/test_cryptodev_security_ipsec_test_vectors.h
(pkt_aes_128_gcm, pkt_aes_256_gcm), which are the ESP packet cases of
draft-mcgrew-gcm-test-01 ("The Use of Galois/Counter Mode (GCM) in IPsec ESP",
test vectors for RFC 4106), with the inner checksums corrected and sequence number 1.

Not used: that file's AES-CBC + HMAC-SHA-256 packet (pkt_aes_128_cbc_hmac_sha256) has SPI 52,
which RFC 4303 section 2.1 reserves and tunnelgw's config rightly refuses (SPI >= 256); the
SPI is under the ICV, so it cannot be changed. Its RFC 3602 CBC cases use NULL authentication,
which tunnelgw does not offer.
"""


def _h(s):
    return bytes.fromhex("".join(s.split()))


VECTORS = [
    {
        "name": "gcm128-mcgrew",
        "encryption": "aes-gcm-128",
        "key": _h("feffe9928665731c6d6a8f9467308308"),
        "salt": _h("cafebabe"),
        "spi": 0x0000A5F8,
        "seq": 1,
        "esp": _h("""
            0000a5f8 00000001
            facedbaddecaf888
            deb22cd9b07c72c1 6e3a65beeb8df304 a5a5897d33ae530f 1ba76d5d114d2a5c
            3de81827c10e9a4f 51330d0eec416642 cfbb85a5b47e48a4 ec3b9ba95d918bd4
            29c737579ff19e58 cffc607a3bce8994"""),
        "inner": _h("""
            4500003e698f0000 80114dccc0a80102 c0a80101
            0a980035002a2343 b2d0010000010000 0000000003736970 0963796265726369
            747902646b000001 0001"""),
    },
    {
        "name": "gcm256-mcgrew",
        "encryption": "aes-gcm-256",
        "key": _h("abbccddef00112233445566778899aab abbccddef00112233445566778899aab"),
        "salt": _h("11223344"),
        "spi": 0x4A2CBFE3,
        "seq": 1,
        "esp": _h("""
            4a2cbfe3 00000001
            0102030405060708
            ff425c9b724599df 7a3bcd510194e00d 6a78107f1b0b1cbf 06efae9d65a5d763
            748a637985771d34 7f0545659f14e99d ef842d8b00144a1f ec6adf0c9a927fee
            a6c51160"""),
        "inner": _h("""
            4500003069a64000 80062690c0a80102 9389155e
            0a9e008b2dc57ee0 0000000070024000 20bf0000020405b4 01010402"""),
    },
]
