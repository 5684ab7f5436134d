/*
 * test_tls_hello.c - the ClientHello/ServerHello parser
 * (dissectors/tls_hello.c).
 *
 * REAL: handshake messages copied byte for byte from the TLS captures in
 * captures/public and captures/generated (capture and frame named in each
 * row), with tshark 4.0's reading of the same message: for each (capture,
 * frame), `tshark -r CAPTURE -Y frame.number==FRAME -T json -x
 * --no-duplicate-keys`, the bytes from tls.handshake_raw, the expected
 * values from the fields beside it: tls.handshake.version (legacy),
 * ciphersuite (ServerHello), cipher_suites_length / 2 (ClientHello),
 * extensions_server_name, extensions_alpn_str (joined with ','),
 * random, session_id, extensions_length, and the extension types present:
 * 22 encrypt_then_mac, 35 session_ticket (ClientHello, length > 0),
 * 41 pre_shared_key.  `version` is tshark's supported_version: in a
 * ServerHello the one chosen, in a ClientHello the highest listed that is
 * not GREASE (0x?a?a), or the legacy version if higher or none.
 *
 * Then every prefix of each real message, each in a buffer of exactly its
 * size (so that ASan stops a read past it), and hand-built malformed
 * messages: lengths that overrun, odd-length vectors, empty and overlong
 * names.
 *
 * TLS 1.3 drafts and variants: ServerHellos of captures/generated/
 * tls-legacy/tls-legacy-hellos.pcap (hellos.py built them after the
 * drafts), read by tshark with -d tcp.port==47939,tls: draft 18's own
 * layout (version 0x7f12 first, no session id, no compression method),
 * and the TLS 1.2 layout with supported_versions 0x7f1c (draft 28), 0xfb1a
 * (Facebook draft 26) and 0x7e02 (a version tshark does not know).
 * SSL 2.0-format ClientHellos (RFC 5246 appendix E.2) from the same
 * capture, tshark's reading beside them: version, cipher specs (those
 * whose first byte is 0 are TLS suites), session id and challenge lengths;
 * the random is the challenge right-aligned with leading zeros (E.2).
 */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls_hello.h"

/* Hex (spaces allowed) into out; the byte count. */
static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	while (*s) {
		if (*s == ' ') {
			s++;
			continue;
		}
		unsigned v;
		cr_assert_eq(sscanf(s, "%2x", &v), 1, "bad hex at \"%.8s\"", s);
		cr_assert(s[1] && s[1] != ' ', "odd hex digit at \"%.8s\"", s);
		cr_assert_lt(n, cap);
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

/* Parse a copy of [p, p+n) in a buffer of exactly n bytes. */
static int parse_exact(const uint8_t *p, size_t n, struct tls_hello *h)
{
	static const uint8_t none[1];
	uint8_t *b = malloc(n);
	cr_assert(b || !n);
	if (n)
		memcpy(b, p, n);
	int rc = tls_hello_parse(b ? b : none, n, h);
	free(b);
	return rc;
}

/* A parsed hello's strings end inside their arrays. */
static void expect_sane(const struct tls_hello *h)
{
	cr_expect_leq(h->session_id_len, sizeof h->session_id);
	cr_expect_not_null(memchr(h->sni, '\0', sizeof h->sni));
	cr_expect_not_null(memchr(h->alpn, '\0', sizeof h->alpn));
}

/* ---- real messages ------------------------------------------------------ */

struct real_hello {
	const char *src;              /* capture (under captures/) and frame */
	uint8_t type;
	uint16_t legacy_version, version, cipher, ciphers_offered;
	const char *sni, *alpn;
	bool session_ticket, pre_shared_key, encrypt_then_mac;
	uint16_t extensions_len;      /* tshark's extensions_length */
	const char *random, *session_id;
	const char *msg;              /* the whole message, 4-byte header included */
};

static const struct real_hello REAL[] = {
	/* ClientHello, 183 bytes; extensions 11, 10, 35, 22, 23, 13 */
	{ "public/scapy/tls_nss_example.pcap frame 4", 1, 0x0303, 0x0303, 0x0000, 28,
	  "", "", false, false, true, 82,
	  "216e876ea1a480c60145c4c80eb8d05c85b6806043105c391236cd4e88f79a21",
	  "",
	  "010000b30303216e876ea1a480c60145c4c80eb8d05c85b6806043105c391236cd4e88f79a210000"
	  "38c02cc030009fcca9cca8ccaac02bc02f009ec024c028006bc023c0270067c00ac0140039c009c0"
	  "130033009d009c003d003c0035002f00ff01000052000b000403000102000a000c000a001d001700"
	  "1e00190018002300000016000000170000000d002a0028040305030603080708080809080a080b08"
	  "0408050806040105010601030303010302040205020602"
	},
	/* ServerHello, 65 bytes; extensions 65281, 11, 35, 23 */
	{ "public/scapy/tls_nss_example.pcap frame 6", 2, 0x0303, 0x0303, 0xc030, 0,
	  "", "", false, false, false, 21,
	  "e588346eef897eb5058a79c3c97ace261b5b51e8152b3f53444f574e47524401",
	  "",
	  "0200003d0303e588346eef897eb5058a79c3c97ace261b5b51e8152b3f53444f574e4752440100c0"
	  "30000015ff01000100000b0004030001020023000000170000"
	},
	/* ClientHello, 220 bytes; extensions 11, 10, 35, 22, 23, 13, 43, 45, 51 */
	{ "public/scapy/tls_nss_example.pcap frame 22", 1, 0x0303, 0x0304, 0x0000, 4,
	  "", "", false, false, true, 135,
	  "74ef95570af6a305910ee6cb0f98fc5bcec0c5d5dffe5f293ae9a4d7ba2110f2",
	  "bafd6cd1e537cb38b7a988cabe5393cbfe399fd17a96c65d299eb5c9c9f83457",
	  "010000d8030374ef95570af6a305910ee6cb0f98fc5bcec0c5d5dffe5f293ae9a4d7ba2110f220ba"
	  "fd6cd1e537cb38b7a988cabe5393cbfe399fd17a96c65d299eb5c9c9f83457000813021303130100"
	  "ff01000087000b000403000102000a00160014001d0017001e001900180100010101020103010400"
	  "2300000016000000170000000d001e001c040305030603080708080809080a080b08040805080604"
	  "0105010601002b0003020304002d00020101003300260024001d00208c33aa9408b833b500f40933"
	  "f2d061ca71eec3f170d268837f5cc2773ab68900"
	},
	/* ServerHello, 122 bytes; extensions 43, 51 */
	{ "public/scapy/tls_nss_example.pcap frame 24", 2, 0x0303, 0x0304, 0x1302, 0,
	  "", "", false, false, false, 46,
	  "e2a60a74b5dbb5904de79fae2d1c2625e782d9abe661d999161ce4b96f123bb1",
	  "bafd6cd1e537cb38b7a988cabe5393cbfe399fd17a96c65d299eb5c9c9f83457",
	  "020000760303e2a60a74b5dbb5904de79fae2d1c2625e782d9abe661d999161ce4b96f123bb120ba"
	  "fd6cd1e537cb38b7a988cabe5393cbfe399fd17a96c65d299eb5c9c9f83457130200002e002b0002"
	  "030400330024001d0020bd910a5b23280895cf35389defac67f979a57b7365bfdcfc0306cd31209a"
	  "5e48"
	},
	/* ClientHello, 512 bytes;
	 * extensions 43690, 65281, 0, 23, 35, 13, 5, 18, 16, 30032, 11, 40, 45, 43, 10,
	 * 24, 35466, 21: Chrome, with GREASE, and TLS 1.3 draft 18 (0x7f12) the
	 * highest version listed */
	{ "public/zeek/tls/signed_certificate_timestamp-2.pcap frame 4", 1, 0x0303, 0x7f12, 0x0000, 17,
	  "ritter.vg", "h2,http/1.1", false, false, false, 433,
	  "d5c5ab801b62ee3aa28ce7d96e0230949ed0a3287d525b315c13f3585bee8de7",
	  "",
	  "010001fc0303d5c5ab801b62ee3aa28ce7d96e0230949ed0a3287d525b315c13f3585bee8de70000"
	  "22dada130113021303c02bc02fc02cc030cca9cca8c013c014009c009d002f0035000a010001b1aa"
	  "aa0000ff010001000000000e000c0000097269747465722e76670017000000230000000d00140012"
	  "040308040401050308050501080606010201000500050100000000001200000010000e000c026832"
	  "08687474702f312e3175500000000b000201000028002b0029caca000100001d00203718c91c75c7"
	  "b1a2a13f87aaf508172dde74721b38120d63cbed6c54ec347a3f002d00020101002b000b0a1a1a7f"
	  "12030303020301000a000a0008caca001d0017001800180004000d01028a8a000100001500ea0000"
	  "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
	  "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
	  "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
	  "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
	  "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
	  "0000000000000000000000000000000000000000000000000000000000000000"
	},
	/* ServerHello, 990 bytes; extensions 0, 65281, 11, 35, 5, 18, 16: an empty
	 * server_name (not read in a ServerHello), and SCTs (18) */
	{ "public/zeek/tls/signed_certificate_timestamp-2.pcap frame 6", 2, 0x0303, 0x0303, 0xc02f, 0,
	  "", "h2", false, false, false, 946,
	  "34b337a9345f39ee53fbb3d1cd2f7b10697515d99fad0205fa99ffdc8f6953b2",
	  "",
	  "020003da030334b337a9345f39ee53fbb3d1cd2f7b10697515d99fad0205fa99ffdc8f6953b200c0"
	  "2f0003b200000000ff01000100000b00040300010200230000000500000012038c038a007700a4b9"
	  "0990b418581487bb13a2cc67700a3c359804f91bdfb8e377cd0ec80ddc100000015a636140200000"
	  "04030048304602210089827317d9cb6fcfc3ba917bebe8f1bec829971ee841995000aab415d93793"
	  "ca022100cacdec9e12ee642f76f5c332ba9253e0207d856be7d4545270e88d7eba9d1216012f00ac"
	  "3b9aed7fa9674757159e6d7d575672f9d98100941e9bdeffeca1313b75782d0000015a636143f400"
	  "000401010004ed08ca8e1b8b6124e5e87b5996272b0686876f1a3d693591c3fdf6beea6f3bc81c01"
	  "6ac014ea06d3e323772c0706c3d0dcf24c3ab07bfd2e00dfc2b87728aa6bfe5ea005e184ad1a21f2"
	  "402f4acccb38bbfa603b43465c3c6517da66452f7a58ebd079155bd5e2eeaff86bee5892a4380cab"
	  "1576a6a400c5536a6fe9bc4cde111d937f9bbeb113fbf1cbfb3485f26ac174b082673b2a0569992a"
	  "68e1cc07d275c84cd397b9815b2dd1ff1ec0a4805e7676b82bc571ecc0e79000117bfd59b4666b27"
	  "7ba454f4484ffd1df6cebe3d084791d5340a90e7d5ed618ceb7c22c17221d9fbbd7ef8c101b54039"
	  "7c9e0e6ad15397a30af96815d77d058a1b2b6a13f500770003019df3fd85a69a8ebd1facc6da9ba7"
	  "3e469774fe77f579fc5a08b8328c1d6b0000015a6361963d0000040300483046022100998ca52b75"
	  "e174080aa921ed299bb6cc788d30564e2c525a32d933dca720a5d3022100c8de968d02d6fc78db4d"
	  "20061c71e510e32018425c1d3188b0ebf3f29b9958b40076005614069a2fd7c2ecd3f5e1bd44b23e"
	  "c74676b9bc99115cc0ef949855d689d0dd0000015a63613c2d0000040300473045022046c2fb02fd"
	  "a3524e795f165eb5342d5390db4b97870093a10d27c03cbe75c4ab022100b493bbe2ee1458d4cfa4"
	  "c1d8cfda416f6144f0bb4d37dbb0ecca0f18cb658de9007500ee4bbdb775ce60bae142691fabe19e"
	  "66a30f7e5fb072d88300c47b897aa8fdcb0000015a636142a7000004030046304402204906b4845a"
	  "6ff43985d2bbc88b629bacbd8400f266d0140c56155fc70926c19f02204d0c05016162e597f9f827"
	  "02f4193897d23e7861c2dac1736177d85dc897d65d007600bbd9dfbc1f8a71b593942397aa927b47"
	  "3857950aab52e81a909664368e1ed1850000015a63613a860000040300473045022100b11a744a34"
	  "80bdc5977f28ae5e4ee357452d414f14580a421ec4b3360054566702206f31686bec9f4647a4d226"
	  "973e45877fcf1cc8db3e6ac9def51e97f8c365cc11001000050003026832"
	},
	/* ClientHello, 512 bytes;
	 * extensions 0, 23, 65281, 10, 11, 35, 16, 5, 34, 51, 43, 13, 45, 28, 21 */
	{ "public/zeek/tls/tls-1.2-stream-keylog.pcap frame 4", 1, 0x0303, 0x0304, 0x0000, 17,
	  "www.heise.de", "http/1.1", false, false, false, 401,
	  "2095006fcb3f93d255cbb6562587f0dd010212fdee9d233aff64e6ed36cd5c45",
	  "7a0f0f7e49881bed420dc3193ec5b5929395a7a4922f528c8befd5c2f8c52166",
	  "010001fc03032095006fcb3f93d255cbb6562587f0dd010212fdee9d233aff64e6ed36cd5c45207a"
	  "0f0f7e49881bed420dc3193ec5b5929395a7a4922f528c8befd5c2f8c521660022130113031302c0"
	  "2bc02fcca9cca8c02cc030c00ac009c013c014009c009d002f00350100019100000011000f00000c"
	  "7777772e68656973652e646500170000ff01000100000a000e000c001d0017001800190100010100"
	  "0b00020100002300000010000b000908687474702f312e310005000501000000000022000a000804"
	  "030503060302030033006b0069001d00209ce7a68490d287ba848331bedbd6e161a364fedcfb8f4d"
	  "88d232c2f914538f3200170041049fa19668fdefd7812ce7c48706e442971b0c00836aba5c48f021"
	  "c21d467d9bba368a52cf56cb25fbd25f78094f4ff19866beaf3453282cd0b4117aaa7616a7b6002b"
	  "00050403040303000d0018001604030503060308040805080604010501060102030201002d000201"
	  "01001c000240010015008d0000000000000000000000000000000000000000000000000000000000"
	  "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
	  "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
	  "0000000000000000000000000000000000000000000000000000000000000000"
	},
	/* ServerHello, 110 bytes; extensions 65281, 0, 16, 11, 23 */
	{ "public/zeek/tls/tls-1.2-stream-keylog.pcap frame 6", 2, 0x0303, 0x0303, 0xc030, 0,
	  "", "http/1.1", false, false, false, 34,
	  "4a88e977158bed6ee29adcd754d0491c99683d93249be57f517ef7325e338f5b",
	  "af42b9c45397fc39372a6a735bfe45e0606600fe445dfa58b9ab0f5e6bced530",
	  "0200006a03034a88e977158bed6ee29adcd754d0491c99683d93249be57f517ef7325e338f5b20af"
	  "42b9c45397fc39372a6a735bfe45e0606600fe445dfa58b9ab0f5e6bced530c030000022ff010001"
	  "00000000000010000b000908687474702f312e31000b0002010000170000"
	},
	/* ClientHello, 512 bytes;
	 * extensions 0, 23, 65281, 10, 11, 35, 16, 5, 51, 43, 13, 45, 28, 21 */
	{ "public/zeek/tls/tls12-decryption.pcap frame 4", 1, 0x0303, 0x0304, 0x0000, 1,
	  "heise.de", "h2,http/1.1", false, false, false, 433,
	  "4d98940fb40a244b48e42eac287144b1b7393057caa131f961a78e38b0e77c1e",
	  "a73fd3e296a0c40f573b69153daef2a35a93c31ae485b6af10b7457d2d1490ae",
	  "010001fc03034d98940fb40a244b48e42eac287144b1b7393057caa131f961a78e38b0e77c1e20a7"
	  "3fd3e296a0c40f573b69153daef2a35a93c31ae485b6af10b7457d2d1490ae0002c030010001b100"
	  "00000d000b00000868656973652e646500170000ff01000100000a000e000c001d00170018001901"
	  "000101000b00020100002300000010000e000c02683208687474702f312e31000500050100000000"
	  "0033006b0069001d002070e407d3ebfed3d642e65f0e919bcdb6a6f754fd8a3b3b944d1bdda975a1"
	  "9a78001700410494ba74b43e8faadac80374b1002083f9b992a9cc666e788270f0eab219870415b6"
	  "b1a9d14e32e1d84003c86c9dcaf4bd3ae194cda00aabc14d9aa3bcae1df8e1002b00050403040303"
	  "000d0018001604030503060308040805080604010501060102030201002d00020101001c00024001"
	  "001500bc000000000000000000000000000000000000000000000000000000000000000000000000"
	  "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
	  "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
	  "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
	  "0000000000000000000000000000000000000000000000000000000000000000"
	},
	/* ServerHello, 84 bytes; extensions 65281, 0, 11, 35, 16, 23 */
	{ "public/zeek/tls/tls12-decryption.pcap frame 6", 2, 0x0303, 0x0303, 0xc030, 0,
	  "", "http/1.1", false, false, false, 40,
	  "1a53a25de65a4d2d7b2c4148ea48a74d103ad79d730ea6ce51960adc8d80d943",
	  "",
	  "0200005003031a53a25de65a4d2d7b2c4148ea48a74d103ad79d730ea6ce51960adc8d80d94300c0"
	  "30000028ff0100010000000000000b000403000102002300000010000b000908687474702f312e31"
	  "00170000"
	},
	/* ClientHello, 99 bytes; extensions 11, 10, 16, 22, 23 */
	{ "generated/tls10-aes128cbc-sha-etm-curl.pcap frame 4", 1, 0x0301, 0x0301, 0x0000, 2,
	  "", "h2,http/1.1", false, false, true, 50,
	  "b757c7e02d51e1d0a209aa21e8a42b2ad583407ae8ebd8d453709b1f45ddff85",
	  "",
	  "0100005f0301b757c7e02d51e1d0a209aa21e8a42b2ad583407ae8ebd8d453709b1f45ddff850000"
	  "04c01300ff01000032000b000403000102000a000c000a001d0017001e001900180010000e000c02"
	  "683208687474702f312e310016000000170000"
	},
	/* ServerHello, 112 bytes; extensions 65281, 11, 16, 22, 23 */
	{ "generated/tls10-aes128cbc-sha-etm-curl.pcap frame 6", 2, 0x0301, 0x0301, 0xc013, 0,
	  "", "http/1.1", false, false, true, 36,
	  "1dbef681d4b7624c5f44b1e4165c328ab746757014c7db15444f574e47524400",
	  "f645287703feb32f98b5a2b3d3dfbac6b4fdc79c7a4cc579054d9d55e00b4c98",
	  "0200006c03011dbef681d4b7624c5f44b1e4165c328ab746757014c7db15444f574e4752440020f6"
	  "45287703feb32f98b5a2b3d3dfbac6b4fdc79c7a4cc579054d9d55e00b4c98c013000024ff010001"
	  "00000b0004030001020010000b000908687474702f312e310016000000170000"
	},
	/* ServerHello, 108 bytes; extensions 65281, 11, 16, 23 */
	{ "generated/tls12-aes128cbc-sha256-mte-curl.pcap frame 6", 2, 0x0303, 0x0303, 0xc027, 0,
	  "", "http/1.1", false, false, false, 32,
	  "571cc23835b34d804a980a02dcdabfb2c653bb6656277200444f574e47524401",
	  "8a08b95c47486805c553c6d28f51089d6d7d5999fa45879b6b2d6eacee10c4ae",
	  "020000680303571cc23835b34d804a980a02dcdabfb2c653bb6656277200444f574e47524401208a"
	  "08b95c47486805c553c6d28f51089d6d7d5999fa45879b6b2d6eacee10c4aec027000020ff010001"
	  "00000b0004030001020010000b000908687474702f312e3100170000"
	},
	/* ClientHello, 425 bytes; extensions 0, 11, 10, 35, 22, 23, 13 */
	{ "generated/tls12-resumed-s_client.pcap frame 37", 1, 0x0303, 0x0303, 0x0000, 28,
	  "localhost", "", true, false, true, 292,
	  "05bd060881012a4b1a02571c14f8768788ce37a80ca74d05f147a4c9441c982e",
	  "bd1844d097c61a0aa5cb6e308e25835a9fde4406b393d8675ec5987ea6f2dc19",
	  "010001a5030305bd060881012a4b1a02571c14f8768788ce37a80ca74d05f147a4c9441c982e20bd"
	  "1844d097c61a0aa5cb6e308e25835a9fde4406b393d8675ec5987ea6f2dc190038c02cc030009fcc"
	  "a9cca8ccaac02bc02f009ec024c028006bc023c0270067c00ac0140039c009c0130033009d009c00"
	  "3d003c0035002f00ff010001240000000e000c0000096c6f63616c686f7374000b00040300010200"
	  "0a000c000a001d0017001e00190018002300c069d17a2f897cdb51c8af6671bb43c69e0f13f917e6"
	  "882ba0528da42ad2299fbb82f094850159b68ddc55d63c5a224c9e3f57254b547db99765466a7ab5"
	  "272d001e2c9146a69b50377c411602ddbdd8e35547f5eb21142d2c09a322e5b093d3d846584830f4"
	  "6d366e69cc319aa8bc6bb904cdce9b9f5aeb1d89746ddc475ad433f66499a856e42cc86a335af940"
	  "ebe6b743f90f70ad5849d4bcac03478f5bbbfc9d46e705efe8a8ed84010116871bffe764c7c3f207"
	  "edf73db0b9923f1421f1440016000000170000000d002a0028040305030603080708080809080a08"
	  "0b080408050806040105010601030303010302040205020602"
	},
	/* ServerHello, 85 bytes; extensions 65281, 23 */
	{ "generated/tls12-resumed-s_client.pcap frame 39", 2, 0x0303, 0x0303, 0xc030, 0,
	  "", "", false, false, false, 9,
	  "577e04c5a95bf86e21030e6d5cd75a03770056baf146ab55444f574e47524401",
	  "bd1844d097c61a0aa5cb6e308e25835a9fde4406b393d8675ec5987ea6f2dc19",
	  "020000510303577e04c5a95bf86e21030e6d5cd75a03770056baf146ab55444f574e4752440120bd"
	  "1844d097c61a0aa5cb6e308e25835a9fde4406b393d8675ec5987ea6f2dc19c030000009ff010001"
	  "0000170000"
	},
	/* ClientHello, 541 bytes; extensions 0, 11, 10, 35, 22, 23, 13, 43, 45, 51, 41 */
	{ "generated/tls13-resumed-s_client.pcap frame 38", 1, 0x0303, 0x0304, 0x0000, 4,
	  "localhost", "", false, true, true, 456,
	  "e40f0ea5c58ca078c55d8ed07663fcd21a003719847bfc31924972855c6d8ef7",
	  "964896d51684a2fe2429797ed22dfe730321f2677101b101e57648ca2923295d",
	  "010002190303e40f0ea5c58ca078c55d8ed07663fcd21a003719847bfc31924972855c6d8ef72096"
	  "4896d51684a2fe2429797ed22dfe730321f2677101b101e57648ca2923295d000813021303130100"
	  "ff010001c80000000e000c0000096c6f63616c686f7374000b000403000102000a00160014001d00"
	  "17001e0019001801000101010201030104002300000016000000170000000d001e001c0403050306"
	  "03080708080809080a080b080408050806040105010601002b0003020304002d0002010100330026"
	  "0024001d00208eaf839e021aad34931f1599e65f2800de026af7ed478572ce959aa5116a79380029"
	  "012b00f600f069d17a2f897cdb51c8af6671bb43c69e2e78c16968e97916b2a1400c8ed604329c7c"
	  "61fb76a3ac897e663893e01967ad15a608d44f86124a69f15147514021717fe62d1da403d2271b2e"
	  "6607ea600943d35a691f70aae2f6995b8854c78264db294d26133b9403900a82fcbd89de4c826419"
	  "f150cefdd21e06d635763a719759694e9def31c0f6724697fc3a9d2fd97c8550887b72f5b8ff9769"
	  "3429ce6c9d5f4732f76ff61073569caadaef140ac36d8d08ce2d4b3805621d6af629b1f3cbe94688"
	  "974e9eabf69f65021e047ea028cdeac5fd73c1ab86f41e1515d8912bfb13fbb2b4d88ae7b7046b82"
	  "b844f6d8995bca6e5a520031301b1ddd18019b35c73f4a0bb05a8d231c156feffba8068b266ebb24"
	  "6a50d8defdc64ef2d6a208cdbb842593b459184e33"
	},
	/* ServerHello, 128 bytes; extensions 43, 51, 41 */
	{ "generated/tls13-resumed-s_client.pcap frame 40", 2, 0x0303, 0x0304, 0x1302, 0,
	  "", "", false, true, false, 52,
	  "55804bc5b34f5f41a62f48085429de9b0d470a0618a1d0a28f1713ed5eb721fe",
	  "964896d51684a2fe2429797ed22dfe730321f2677101b101e57648ca2923295d",
	  "0200007c030355804bc5b34f5f41a62f48085429de9b0d470a0618a1d0a28f1713ed5eb721fe2096"
	  "4896d51684a2fe2429797ed22dfe730321f2677101b101e57648ca2923295d1302000034002b0002"
	  "030400330024001d002058429b858bd448556953c28d5dc4ac1be6a00fbb1640cbfc213f9be2d6fc"
	  "1626002900020000"
	},
	/* ClientHello, 512 bytes; extensions 11, 10, 16, 22, 23, 49, 13, 43, 45, 51, 21 */
	{ "generated/h2-curl-tls13-nginx.pcap frame 4", 1, 0x0303, 0x0304, 0x0000, 31,
	  "", "h2,http/1.1", false, false, true, 373,
	  "82126f272fe40696ccf51488c33c7e2dfb71dedb67ac95b6523d0b37b4838736",
	  "ba8c1d36988a5e58ff04d63f50d3b980c364aba91a35e160a3f5cf7e38c4ac67",
	  "010001fc030382126f272fe40696ccf51488c33c7e2dfb71dedb67ac95b6523d0b37b483873620ba"
	  "8c1d36988a5e58ff04d63f50d3b980c364aba91a35e160a3f5cf7e38c4ac67003e130213031301c0"
	  "2cc030009fcca9cca8ccaac02bc02f009ec024c028006bc023c0270067c00ac0140039c009c01300"
	  "33009d009c003d003c0035002f00ff01000175000b000403000102000a00160014001d0017001e00"
	  "190018010001010102010301040010000e000c02683208687474702f312e31001600000017000000"
	  "310000000d002a0028040305030603080708080809080a080b080408050806040105010601030303"
	  "010302040205020602002b0009080304030303020301002d00020101003300260024001d00205392"
	  "dc3bf5aff3f3d978d1026e08490d594554f7647e8253864ae2916f2c3c00001500c6000000000000"
	  "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
	  "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
	  "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
	  "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
	  "0000000000000000000000000000000000000000000000000000000000000000"
	},
	/* ServerHello, 82 bytes, TLS 1.3 draft 18's layout: version 0x7f12, no
	 * session id, no compression method; extension 40 (draft 18's
	 * key_share) */
	{ "generated/tls-legacy/tls-legacy-hellos.pcap frame 38", 2, 0x7f12, 0x7f12, 0x1301, 0,
	  "", "", false, false, false, 40,
	  "0a26055b0cd9c90d5035d8f55cc6b321b918c02184188a87ae172771c68d86cf",
	  "",
	  "0200004e7f120a26055b0cd9c90d5035d8f55cc6b321b918c02184188a87ae172771c68d86cf1301"
	  "002800280024001d0020dac12e4d8fa3c1894a45bc651bcbb6242efc2c0e7ad1d2155b9ab1826fd1"
	  "afa2"
	},
	/* ServerHello, 122 bytes; extensions 43 (0x7f1c: draft 28), 51 */
	{ "generated/tls-legacy/tls-legacy-hellos.pcap frame 55", 2, 0x0303, 0x7f1c, 0x1302, 0,
	  "", "", false, false, false, 46,
	  "29c3a51359ad5ecb6e39251a39b26636612fa7cbdd1a4ab3e517367d27f4ac1f",
	  "ffdada792d7540d89718a8a829d637a3d9261c84c5ccd47de749b6238a0cf37a",
	  "02000076030329c3a51359ad5ecb6e39251a39b26636612fa7cbdd1a4ab3e517367d27f4ac1f20ff"
	  "dada792d7540d89718a8a829d637a3d9261c84c5ccd47de749b6238a0cf37a130200002e002b0002"
	  "7f1c00330024001d00207b29fe4f8c1631d553f5cdc1b61f850705f5801360a1e97b3308229afdb1"
	  "105d"
	},
	/* ServerHello, 122 bytes; extensions 43 (0xfb1a: Facebook draft 26), 51 */
	{ "generated/tls-legacy/tls-legacy-hellos.pcap frame 70", 2, 0x0303, 0xfb1a, 0x1301, 0,
	  "", "", false, false, false, 46,
	  "4a2c57a938083442afe088747fd31f53a91bf910e3403391696367ef17731882",
	  "2b46ddd3f09ed126732bba4a76a27a33fa0144766a3ddd037a90de9c93c61724",
	  "0200007603034a2c57a938083442afe088747fd31f53a91bf910e3403391696367ef17731882202b"
	  "46ddd3f09ed126732bba4a76a27a33fa0144766a3ddd037a90de9c93c61724130100002e002b0002"
	  "fb1a00330024001d0020b5e6f133cfd72b087089646f0ee59a16b23876c09e7709299e32d0d046e8"
	  "f0ae"
	},
	/* ServerHello, 50 bytes; extension 43 (0x7e02: tshark's "Unknown") */
	{ "generated/tls-legacy/tls-legacy-hellos.pcap frame 85", 2, 0x0303, 0x7e02, 0xc02f, 0,
	  "", "", false, false, false, 6,
	  "21057ef3e6382d994cfcc173de6bc4db3940567b5a60bea4f7785c3a5fe674c8",
	  "",
	  "0200002e030321057ef3e6382d994cfcc173de6bc4db3940567b5a60bea4f7785c3a5fe674c800c0"
	  "2f000006002b00027e02"
	},
	/* ServerHello, 102 bytes; extensions 65281, 11, 16, 23 */
	{ "generated/h2-curl-tls-nginx.pcap frame 6", 2, 0x0303, 0x0303, 0xc030, 0,
	  "", "h2", false, false, false, 26,
	  "6a25ea2bf559733b5d4c0ee657f795c4f8af3d7b8a1c64d92865d115ef6a7b55",
	  "6173f3ab86d941481425fbfc97e1c1af21f66e6abbcad531c32037a71682fc28",
	  "0200006203036a25ea2bf559733b5d4c0ee657f795c4f8af3d7b8a1c64d92865d115ef6a7b552061"
	  "73f3ab86d941481425fbfc97e1c1af21f66e6abbcad531c32037a71682fc28c03000001aff010001"
	  "00000b00040300010200100005000302683200170000"
	},
};

#define NREAL (sizeof REAL / sizeof REAL[0])
#define MSGMAX 2048

static size_t real_msg(const struct real_hello *r, uint8_t *out)
{
	size_t n = unhex(r->msg, out, MSGMAX);
	cr_assert_eq(n, 4 + ((size_t)out[1] << 16 | (size_t)out[2] << 8 | out[3]),
		     "%s: the message is not whole", r->src);
	return n;
}

static void expect_real(const struct real_hello *r, const struct tls_hello *h)
{
	uint8_t random[32], sid[32];
	cr_assert_eq(unhex(r->random, random, sizeof random), 32);
	size_t sid_len = unhex(r->session_id, sid, sizeof sid);
	cr_expect_eq(h->type, r->type, "%s", r->src);
	cr_expect_eq(h->legacy_version, r->legacy_version, "%s", r->src);
	cr_expect_eq(h->version, r->version, "%s: version %#06x", r->src, h->version);
	cr_expect_eq(h->cipher, r->cipher, "%s: cipher %#06x", r->src, h->cipher);
	cr_expect_eq(h->ciphers_offered, r->ciphers_offered, "%s", r->src);
	cr_expect_str_eq(h->sni, r->sni, "%s", r->src);
	cr_expect_str_eq(h->alpn, r->alpn, "%s", r->src);
	cr_expect_eq(h->session_ticket, r->session_ticket, "%s", r->src);
	cr_expect_eq(h->pre_shared_key, r->pre_shared_key, "%s", r->src);
	cr_expect_eq(h->encrypt_then_mac, r->encrypt_then_mac, "%s", r->src);
	cr_expect_arr_eq(h->random, random, 32, "%s", r->src);
	cr_expect_eq(h->session_id_len, sid_len, "%s", r->src);
	cr_expect_arr_eq(h->session_id, sid, sid_len, "%s", r->src);
	/* the versions tshark names "TLS 1.3 (...)" (tshark -G values) */
	bool v13 = r->version == 0x0304 || (r->version >= 0x7f0e && r->version <= 0x7f1c) ||
		   r->version == 0xfb17 || r->version == 0xfb1a;
	cr_expect_eq(h->tls13, v13, "%s: tls13", r->src);
	cr_expect_not(h->sslv2, "%s", r->src);
}

Test(tls_hello, real_hellos_read_as_tshark_reads_them)
{
	static uint8_t m[MSGMAX + 16];
	for (size_t i = 0; i < NREAL; i++) {
		size_t n = real_msg(&REAL[i], m);
		struct tls_hello h;
		cr_expect_eq(parse_exact(m, n, &h), 0, "%s", REAL[i].src);
		expect_real(&REAL[i], &h);
		/* what follows the message (the next one) is not read */
		memset(m + n, 0x16, 16);
		struct tls_hello h2;
		cr_expect_eq(parse_exact(m, n + 16, &h2), 0, "%s", REAL[i].src);
		cr_expect_arr_eq(&h2, &h, sizeof h, "%s: trailing bytes read", REAL[i].src);
	}
}

/* Each prefix of a message whose header still claims the whole is short. */
Test(tls_hello, every_truncation_of_a_real_hello_is_rejected)
{
	static uint8_t m[MSGMAX];
	size_t tried = 0;
	for (size_t i = 0; i < NREAL; i++) {
		size_t n = real_msg(&REAL[i], m);
		for (size_t k = 0; k < n; k++, tried++) {
			struct tls_hello h;
			cr_expect_eq(parse_exact(m, k, &h), -1, "%s cut to %zu of %zu bytes",
				     REAL[i].src, k, n);
		}
	}
	cr_expect_gt(tried, 5000);
}

/* Each prefix with its header's length made to fit: the body itself ends
 * early.  Only the fixed fields alone (a hello without extensions, as old
 * clients send) or the whole message are well formed; the one without
 * extensions keeps the fixed fields and nothing an extension says. */
Test(tls_hello, every_shortened_real_hello_parses_in_bounds)
{
	static uint8_t m[MSGMAX];
	for (size_t i = 0; i < NREAL; i++) {
		const struct real_hello *r = &REAL[i];
		size_t n = real_msg(r, m);
		size_t fixed_end = n - 2 - r->extensions_len;
		for (size_t k = 4; k <= n; k++) {
			size_t body = k - 4;
			m[1] = (uint8_t)(body >> 16);
			m[2] = (uint8_t)(body >> 8);
			m[3] = (uint8_t)body;
			struct tls_hello h;
			int rc = parse_exact(m, k, &h);
			bool whole = k == fixed_end || k == n;
			cr_expect_eq(rc, whole ? 0 : -1, "%s shortened to %zu of %zu bytes",
				     r->src, k, n);
			if (rc == 0)
				expect_sane(&h);
			if (k == fixed_end) {
				struct real_hello bare = *r;
				bare.version = r->legacy_version;
				bare.sni = bare.alpn = "";
				bare.session_ticket = bare.pre_shared_key = bare.encrypt_then_mac = false;
				expect_real(&bare, &h);
			}
		}
	}
}

/* ---- hand-built messages ----------------------------------------------------- */

#define RND "abababababababababababababababab" "abababababababababababababababab"
/* The fixed fields of a ClientHello: TLS 1.2, no session id, one suite
 * (TLS_AES_128_GCM_SHA256), no compression; and of a ServerHello. */
#define CH "0303" RND "00" "0002 1301" "01 00"
#define SH "0303" RND "00" "1301" "00"

#define F_TICKET 1u
#define F_PSK 2u
#define F_ETM 4u
#define F_13 8u                   /* tls13: TLS 1.3, a draft or a variant */

struct built_case {
	const char *name;
	uint8_t type;
	const char *body;             /* after the 4-byte header (hex) */
	int rc;
	/* when rc == 0: */
	uint16_t version;
	const char *sni, *alpn;
	unsigned flags;
};

static const struct built_case BUILT[] = {
	/* the fixed fields */
	{ "empty body", 1, "", -1, 0, "", "", 0 },
	{ "not a hello (Certificate)", 11, CH, -1, 0, "", "", 0 },
	{ "ClientHello without extensions", 1, CH, 0, 0x0303, "", "", 0 },
	{ "ServerHello without extensions", 2, SH, 0, 0x0303, "", "", 0 },
	{ "cut in the random", 1, "0303 abab", -1, 0, "", "", 0 },
	{ "session id of 33 bytes", 1, "0303" RND "21" RND "ab" "0002 1301 0100",
	  -1, 0, "", "", 0 },
	{ "session id of 32 bytes", 1, "0303" RND "20" RND "0002 1301 0100",
	  0, 0x0303, "", "", 0 },
	{ "session id past the message", 1, "0303" RND "20 abab", -1, 0, "", "", 0 },
	{ "cipher suites of odd length", 1, "0303" RND "00" "0003 130113" "0100",
	  -1, 0, "", "", 0 },
	{ "cipher suites past the message", 1, "0303" RND "00" "0004 1301", -1, 0, "", "", 0 },
	{ "compression methods past the message", 1, "0303" RND "00" "0002 1301" "02 00",
	  -1, 0, "", "", 0 },
	{ "ServerHello without its compression method", 2, "0303" RND "00" "1301",
	  -1, 0, "", "", 0 },

	/* the extensions block and each extension's length */
	{ "empty extensions block", 1, CH "0000", 0, 0x0303, "", "", 0 },
	{ "one byte where the block length goes", 1, CH "00", -1, 0, "", "", 0 },
	{ "block longer than the message", 1, CH "0010 0016 0000", -1, 0, "", "", 0 },
	{ "extension longer than the block", 1, CH "0008 0016 0010 00000000", -1, 0, "", "", 0 },
	{ "extension type without a length", 1, CH "0002 0016", -1, 0, "", "", 0 },
	{ "extension type and half a length", 1, CH "0003 0016 00", -1, 0, "", "", 0 },
	{ "a good extension before a bad one", 1, CH "0009 0016 0000 0017 0003 00", -1, 0, "", "",
	  0 },

	/* server_name (RFC 6066 §3) */
	{ "SNI", 1, CH "000e 0000 000a 0008 00 0005 612e6f7267", 0, 0x0303, "a.org", "", 0 },
	{ "zero-length SNI", 1, CH "0009 0000 0005 0003 00 0000", 0, 0x0303, "", "", 0 },
	{ "empty SNI list", 1, CH "0006 0000 0002 0000", 0, 0x0303, "", "", 0 },
	{ "SNI of another name type, then host_name", 1,
	  CH "0012 0000 000e 000c 01 0001 78 00 0005 612e6f7267", 0, 0x0303, "a.org", "", 0 },
	{ "SNI with a control byte and a comma", 1, CH "000d 0000 0009 0007 00 0004 61012c62",
	  0, 0x0303, "a??b", "", 0 },
	/* an extension's inside that does not parse yields nothing, and the
	 * message is still taken */
	{ "SNI list longer than the extension", 1, CH "000e 0000 000a 0010 00 0005 612e6f7267",
	  0, 0x0303, "", "", 0 },
	{ "SNI name longer than the list", 1, CH "000e 0000 000a 0008 00 0009 612e6f7267",
	  0, 0x0303, "", "", 0 },
	{ "SNI extension of one byte", 1, CH "0005 0000 0001 00", 0, 0x0303, "", "", 0 },
	{ "SNI in a ServerHello is not read", 2, SH "000e 0000 000a 0008 00 0005 612e6f7267",
	  0, 0x0303, "", "", 0 },

	/* ALPN (RFC 7301 §3.1) */
	{ "ALPN", 1, CH "0012 0010 000e 000c 02 6832 08 687474702f312e31", 0, 0x0303, "",
	  "h2,http/1.1", 0 },
	{ "ALPN chosen in a ServerHello", 2, SH "0009 0010 0005 0003 02 6832", 0, 0x0303, "", "h2",
	  0 },
	{ "ALPN id longer than the list", 1, CH "0012 0010 000e 000c 02 6832 09 687474702f312e31",
	  0, 0x0303, "", "h2", 0 },
	{ "ALPN list longer than the extension", 1, CH "0009 0010 0005 0009 02 6832", 0, 0x0303,
	  "", "", 0 },

	/* supported_versions (RFC 8446 §4.2.1) */
	{ "supported_versions", 1, CH "000b 002b 0007 06 0304 0303 0302", 0, 0x0304, "", "", F_13 },
	{ "supported_versions of odd length: the stray byte is not read", 1,
	  CH "000a 002b 0006 05 0304 0303 03", 0, 0x0304, "", "", F_13 },
	{ "supported_versions longer than the extension", 1, CH "0007 002b 0003 04 0304", 0, 0x0303,
	  "", "", 0 },
	{ "supported_versions of GREASE only", 1, CH "0009 002b 0005 04 1a1a 7a7a", 0, 0x0303, "",
	  "", 0 },
	{ "ServerHello supported_versions", 2, SH "0006 002b 0002 0304", 0, 0x0304, "", "", F_13 },
	{ "ServerHello supported_versions of one byte", 2, SH "0005 002b 0001 03", 0, 0x0303, "",
	  "", 0 },

	/* TLS 1.3 drafts (0x7f00 + draft) and variants: drafts up to 21 put
	 * the version first and have no session id and no compression method
	 * (draft-ietf-tls-tls13-18 §4.1.3); from draft 22 the TLS 1.2 layout
	 * with supported_versions (draft-ietf-tls-tls13-22 §4.1.3) */
	{ "draft 18 ServerHello", 2, "7f12" RND "1301" "0000", 0, 0x7f12, "", "", F_13 },
	{ "draft 18 ServerHello without extensions", 2, "7f12" RND "1301", 0, 0x7f12, "", "", F_13 },
	{ "draft 18 ServerHello with an extension", 2, "7f12" RND "1301" "0006 0029 0002 0000",
	  0, 0x7f12, "", "", F_13 | F_PSK },
	{ "draft 18 ServerHello cut in its suite", 2, "7f12" RND "13", -1, 0, "", "", 0 },
	{ "draft 14 ServerHello", 2, "7f0e" RND "1301" "0000", 0, 0x7f0e, "", "", F_13 },
	{ "draft 21 ServerHello", 2, "7f15" RND "1302" "0000", 0, 0x7f15, "", "", F_13 },
	{ "draft 22 in the version field: the TLS 1.2 layout", 2, "7f16" RND "00" "1301" "00",
	  0, 0x7f16, "", "", F_13 },
	{ "a ClientHello with version 0x7f12 keeps the TLS 1.2 layout", 1, "7f12" RND "00" "0002 1301"
	  "01 00", 0, 0x7f12, "", "", F_13 },
	{ "ServerHello supported_versions: draft 28", 2, SH "0006 002b 0002 7f1c", 0, 0x7f1c, "",
	  "", F_13 },
	{ "ServerHello supported_versions: Facebook draft 23", 2, SH "0006 002b 0002 fb17", 0,
	  0xfb17, "", "", F_13 },
	{ "ServerHello supported_versions: Facebook draft 26", 2, SH "0006 002b 0002 fb1a", 0,
	  0xfb1a, "", "", F_13 },
	{ "ServerHello supported_versions: an unknown version", 2, SH "0006 002b 0002 7e02", 0,
	  0x7e02, "", "", 0 },
	{ "ServerHello supported_versions: 0xfb1b is no variant", 2, SH "0006 002b 0002 fb1b", 0,
	  0xfb1b, "", "", 0 },

	/* the extensions that count by their presence */
	{ "empty session_ticket: no ticket offered", 1, CH "0004 0023 0000", 0, 0x0303, "", "", 0 },
	{ "session_ticket with a ticket", 1, CH "0006 0023 0002 abab", 0, 0x0303, "", "", F_TICKET },
	{ "encrypt_then_mac", 1, CH "0004 0016 0000", 0, 0x0303, "", "", F_ETM },
	{ "encrypt_then_mac in a ServerHello", 2, SH "0004 0016 0000", 0, 0x0303, "", "", F_ETM },
	{ "pre_shared_key in a ServerHello", 2, SH "0006 0029 0002 0000", 0, 0x0303, "", "",
	  F_PSK },
};

Test(tls_hello, hand_built_hellos)
{
	for (size_t i = 0; i < sizeof BUILT / sizeof BUILT[0]; i++) {
		const struct built_case *c = &BUILT[i];
		uint8_t m[512];
		size_t body = unhex(c->body, m + 4, sizeof m - 4);
		m[0] = c->type;
		m[1] = 0;
		m[2] = (uint8_t)(body >> 8);
		m[3] = (uint8_t)body;
		struct tls_hello h;
		int rc = parse_exact(m, 4 + body, &h);
		cr_expect_eq(rc, c->rc, "%s: %d", c->name, rc);
		if (rc != 0 || c->rc != 0)
			continue;
		expect_sane(&h);
		cr_expect_eq(h.version, c->version, "%s: version %#06x", c->name, h.version);
		cr_expect_str_eq(h.sni, c->sni, "%s", c->name);
		cr_expect_str_eq(h.alpn, c->alpn, "%s", c->name);
		cr_expect_eq(h.session_ticket, !!(c->flags & F_TICKET), "%s", c->name);
		cr_expect_eq(h.pre_shared_key, !!(c->flags & F_PSK), "%s", c->name);
		cr_expect_eq(h.encrypt_then_mac, !!(c->flags & F_ETM), "%s", c->name);
		cr_expect_eq(h.tls13, !!(c->flags & F_13), "%s", c->name);
	}
}

/* Which versions are TLS 1.3: the final one, every draft number (0x7f00
 * + draft), Facebook's variants of drafts 23 and 26 (tshark names them);
 * nothing near them. */
Test(tls_hello, tls13_versions)
{
	static const struct {
		uint16_t v;
		bool is13;
	} V[] = {
		{ 0x0304, true }, { 0x7f00, true }, { 0x7f12, true }, { 0x7f1c, true }, { 0x7fff, true },
		{ 0xfb17, true }, { 0xfb1a, true }, { 0x0303, false }, { 0x0300, false },
		{ 0x0305, false }, { 0x7e02, false }, { 0x7eff, false }, { 0x8000, false },
		{ 0xfb16, false }, { 0xfb18, false }, { 0xfb1b, false }, { 0x0a0a, false },
		{ 0x0002, false }, { 0xfefd, false },
	};
	for (size_t i = 0; i < sizeof V / sizeof V[0]; i++)
		cr_expect_eq(tls_version_is_13(V[i].v), V[i].is13, "0x%04x", V[i].v);
}

/* Append a big-endian number of `len` bytes. */
static void put(uint8_t *m, size_t *at, size_t v, int len)
{
	while (len--)
		m[(*at)++] = (uint8_t)(v >> (8 * len));
}

/* A ClientHello whose one extension (type et) holds [data, data+n). */
static size_t ch_with(uint8_t *m, uint16_t et, const uint8_t *data, size_t n)
{
	size_t at = 4;
	put(m, &at, 0x0303, 2);
	memset(m + at, 0xab, 32);
	at += 32;
	put(m, &at, 0, 1);                /* session id */
	put(m, &at, 2, 2);
	put(m, &at, 0x1301, 2);
	put(m, &at, 0x0100, 2);           /* one compression method: none */
	put(m, &at, 4 + n, 2);
	put(m, &at, et, 2);
	put(m, &at, n, 2);
	memcpy(m + at, data, n);
	at += n;
	m[0] = 1;
	m[1] = (uint8_t)((at - 4) >> 16);
	m[2] = (uint8_t)((at - 4) >> 8);
	m[3] = (uint8_t)(at - 4);
	return at;
}

/* Names longer than the fields are cut to fit, NUL-terminated. */
Test(tls_hello, overlong_names_are_cut)
{
	static uint8_t e[4096], m[8192];
	struct tls_hello h;

	/* a 300-byte host name (over the 255 of a DNS name) */
	size_t at = 0;
	put(e, &at, 3 + 300, 2);
	put(e, &at, 0, 1);
	put(e, &at, 300, 2);
	memset(e + at, 'a', 300);
	at += 300;
	cr_assert_eq(parse_exact(m, ch_with(m, 0, e, at), &h), 0);
	cr_expect_eq(strlen(h.sni), sizeof h.sni - 1);
	cr_expect_eq(strspn(h.sni, "a"), sizeof h.sni - 1);

	/* one ALPN id of 255 bytes, the longest there is */
	at = 0;
	put(e, &at, 1 + 255, 2);
	put(e, &at, 255, 1);
	memset(e + at, 'p', 255);
	at += 255;
	cr_assert_eq(parse_exact(m, ch_with(m, 16, e, at), &h), 0);
	cr_expect_eq(strlen(h.alpn), sizeof h.alpn - 1);
	cr_expect_eq(strspn(h.alpn, "p"), sizeof h.alpn - 1);

	/* twenty ids of 20 bytes: the list joined, then cut */
	char joined[1024] = "";
	at = 2;
	for (int i = 0; i < 20; i++) {
		put(e, &at, 20, 1);
		memset(e + at, 'a' + i, 20);
		at += 20;
		size_t len = strlen(joined);
		if (len)
			joined[len++] = ',';
		memset(joined + len, 'a' + i, 20);
		joined[len + 20] = '\0';
	}
	size_t list = at - 2;
	e[0] = (uint8_t)(list >> 8);
	e[1] = (uint8_t)list;
	cr_assert_eq(parse_exact(m, ch_with(m, 16, e, at), &h), 0);
	cr_expect_eq(strlen(h.alpn), sizeof h.alpn - 1);
	cr_expect_eq(strncmp(h.alpn, joined, sizeof h.alpn - 1), 0, "%s", h.alpn);
}

/* ---- SSL 2.0-format ClientHellos (RFC 5246 appendix E.2) ------------------ */

struct real_v2 {
	const char *src;
	uint16_t version;
	uint16_t tls_suites;          /* tshark's cipher specs whose first byte is 0 */
	uint8_t session_id_len;
	const char *random;           /* the challenge, right-aligned in 32 bytes */
	const char *record;           /* the whole record, 2-byte header included */
};

static const struct real_v2 REAL_V2[] = {
	/* version 0x0301; 8 specs: 0x010080, 0x0700c0 (SSL 2.0's), 0x000039,
	 * 0x000035, 0x000033, 0x00002f, 0x00000a, 0x0000ff; no session id, a
	 * 16-byte challenge */
	{ "generated/tls-legacy/tls-legacy-hellos.pcap frame 4", 0x0301, 6, 0,
	  "00000000000000000000000000000000046979ecd6e258cb9db541f2b32202a1",
	  "80310103010018000000100100800700c000003900003500003300002f00000a0000ff046979ecd6"
	  "e258cb9db541f2b32202a1"
	},
	/* version 0x0303; 6 specs: 0x00c02f, 0x00c030, 0x00009c, 0x00002f,
	 * 0x0000ff, 0x010080; a 32-byte challenge */
	{ "generated/tls-legacy/tls-legacy-hellos.pcap frame 21", 0x0303, 5, 0,
	  "c7198394462b11e1b2a6badc23c1c9da4f1ddc2b97a8d2c740adf00530393432",
	  "803b01030300120000002000c02f00c03000009c00002f0000ff010080c7198394462b11e1b2a6ba"
	  "dc23c1c9da4f1ddc2b97a8d2c740adf00530393432"
	},
};

static void expect_real_v2(const struct real_v2 *r, const struct tls_hello *h)
{
	uint8_t random[32];
	cr_assert_eq(unhex(r->random, random, sizeof random), 32);
	cr_expect_eq(h->type, TLS_HS_CLIENT_HELLO, "%s", r->src);
	cr_expect(h->sslv2, "%s", r->src);
	cr_expect_eq(h->legacy_version, r->version, "%s", r->src);
	cr_expect_eq(h->version, r->version, "%s", r->src);
	cr_expect_eq(h->ciphers_offered, r->tls_suites, "%s", r->src);
	cr_expect_eq(h->session_id_len, r->session_id_len, "%s", r->src);
	cr_expect_arr_eq(h->random, random, 32, "%s", r->src);
	cr_expect_eq(h->cipher, 0, "%s", r->src);
	cr_expect_str_eq(h->sni, "", "%s", r->src);
	cr_expect_str_eq(h->alpn, "", "%s", r->src);
	cr_expect_not(h->tls13, "%s", r->src);
}

Test(tls_hello, real_sslv2_hellos_read_as_tshark_reads_them)
{
	static uint8_t m[MSGMAX + 16];
	for (size_t i = 0; i < sizeof REAL_V2 / sizeof REAL_V2[0]; i++) {
		const struct real_v2 *r = &REAL_V2[i];
		size_t n = unhex(r->record, m, MSGMAX);
		cr_assert_eq(n, 2 + (((size_t)m[0] & 0x7f) << 8 | m[1]), "%s: not whole", r->src);
		struct tls_hello h;
		cr_expect_eq(tls_hello_parse_v2(m, n, &h), 0, "%s", r->src);
		expect_real_v2(r, &h);
		/* in an exact buffer, and with the next record's bytes after it */
		struct tls_hello h2;
		uint8_t *b = malloc(n);
		cr_assert_not_null(b);
		memcpy(b, m, n);
		cr_expect_eq(tls_hello_parse_v2(b, n, &h2), 0, "%s", r->src);
		free(b);
		cr_expect_arr_eq(&h2, &h, sizeof h, "%s", r->src);
		memset(m + n, 0x16, 16);
		cr_expect_eq(tls_hello_parse_v2(m, n + 16, &h2), 0, "%s", r->src);
		cr_expect_arr_eq(&h2, &h, sizeof h, "%s: trailing bytes read", r->src);
		/* not a TLS handshake message, nor one in TLS's parser */
		cr_expect_eq(parse_exact(m, n, &h2), -1, "%s", r->src);
	}
}

/* Every prefix of a real SSL 2.0-format hello, in a buffer of exactly its
 * size: short of what its header says, or (the header's length made to
 * fit) short of what its own lengths add up to. */
Test(tls_hello, every_cut_sslv2_hello_is_rejected)
{
	static uint8_t m[MSGMAX];
	for (size_t i = 0; i < sizeof REAL_V2 / sizeof REAL_V2[0]; i++) {
		size_t n = unhex(REAL_V2[i].record, m, MSGMAX);
		for (size_t k = 0; k < n; k++) {
			struct tls_hello h;
			uint8_t *b = malloc(k ? k : 1);
			cr_assert_not_null(b);
			memcpy(b, m, k);
			cr_expect_eq(tls_hello_parse_v2(b, k, &h), -1, "%s cut to %zu", REAL_V2[i].src, k);
			if (k >= 2) {
				b[0] = (uint8_t)(0x80 | (k - 2) >> 8);
				b[1] = (uint8_t)(k - 2);
				cr_expect_eq(tls_hello_parse_v2(b, k, &h), -1, "%s shortened to %zu",
					     REAL_V2[i].src, k);
			}
			free(b);
		}
	}
}

struct built_v2 {
	const char *name;
	const char *body;             /* after the 2-byte header (hex) */
	int rc;
	uint16_t tls_suites;          /* when rc == 0 */
	uint8_t session_id_len;
};

#define CHAL16 "0102030405060708090a0b0c0d0e0f10"
#define CHAL32 CHAL16 "1112131415161718191a1b1c1d1e1f20"

static const struct built_v2 BUILT_V2[] = {
	{ "one TLS suite", "01 0301 0003 0000 0010 00002f" CHAL16, 0, 1, 0 },
	{ "SSL 3.0", "01 0300 0003 0000 0010 00000a" CHAL16, 0, 1, 0 },
	{ "SSL 2.0 suites only", "01 0301 0006 0000 0010 010080 0700c0" CHAL16, 0, 0, 0 },
	{ "a 32-byte challenge", "01 0303 0003 0000 0020 00002f" CHAL32, 0, 1, 0 },
	{ "a 16-byte session id (SSL 2.0 resumption)",
	  "01 0301 0003 0010 0010 00002f" CHAL16 CHAL16, 0, 1, 16 },
	{ "a 32-byte session id", "01 0301 0003 0020 0010 00002f" CHAL32 CHAL16, 0, 1, 32 },
	{ "a 33-byte session id", "01 0301 0003 0021 0010 00002f" CHAL32 "00" CHAL16, -1, 0, 0 },
	{ "message type 4 (SSL 2.0's ServerHello)", "04 0301 0003 0000 0010 00002f" CHAL16, -1, 0,
	  0 },
	{ "version 0x0002: SSL 2.0 itself", "01 0002 0003 0000 0010 00002f" CHAL16, -1, 0, 0 },
	{ "version 0x0403", "01 0403 0003 0000 0010 00002f" CHAL16, -1, 0, 0 },
	{ "no cipher specs", "01 0301 0000 0000 0010" CHAL16, -1, 0, 0 },
	{ "cipher specs of 4 bytes", "01 0301 0004 0000 0010 00002f00" CHAL16, -1, 0, 0 },
	{ "a 15-byte challenge", "01 0301 0003 0000 000f 00002f" "0102030405060708090a0b0c0d0e0f",
	  -1, 0, 0 },
	{ "a 33-byte challenge", "01 0301 0003 0000 0021 00002f" CHAL32 "21", -1, 0, 0 },
	{ "a byte after the challenge", "01 0301 0003 0000 0010 00002f" CHAL16 "00", -1, 0, 0 },
	{ "the challenge cut short", "01 0301 0003 0000 0010 00002f" "0102030405", -1, 0, 0 },
	{ "cipher specs past the record", "01 0301 0030 0000 0010 00002f" CHAL16, -1, 0, 0 },
	{ "the fixed fields cut short", "01 0301 0003 00", -1, 0, 0 },
	{ "empty", "", -1, 0, 0 },
};

Test(tls_hello, hand_built_sslv2_hellos)
{
	for (size_t i = 0; i < sizeof BUILT_V2 / sizeof BUILT_V2[0]; i++) {
		const struct built_v2 *c = &BUILT_V2[i];
		uint8_t m[256];
		size_t body = unhex(c->body, m + 2, sizeof m - 2);
		m[0] = (uint8_t)(0x80 | body >> 8);
		m[1] = (uint8_t)body;
		uint8_t *b = malloc(2 + body);
		cr_assert_not_null(b);
		memcpy(b, m, 2 + body);
		struct tls_hello h;
		int rc = tls_hello_parse_v2(b, 2 + body, &h);
		cr_expect_eq(rc, c->rc, "%s: %d", c->name, rc);
		if (rc == 0 && c->rc == 0) {
			cr_expect_eq(h.ciphers_offered, c->tls_suites, "%s", c->name);
			cr_expect_eq(h.session_id_len, c->session_id_len, "%s", c->name);
			cr_expect(h.sslv2, "%s", c->name);
		}
		/* the high bit clear: SSL 2.0's 3-byte header, not a hello's */
		b[0] &= 0x7f;
		cr_expect_eq(tls_hello_parse_v2(b, 2 + body, &h), -1, "%s, high bit clear", c->name);
		free(b);
	}
}
