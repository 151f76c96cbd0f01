/*
 * libFuzzer harness: a resolver's reply, as any bytes, through the TLSA
 * answer parser (dns.c): names, compression, CNAMEs, record data.  The
 * resolver is not ours to trust with our memory.
 */
#include <stdint.h>
#include <string.h>

#include "../../src/common.h"
#include "../../src/dns.h"
#include "../../src/finding.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tlsa_set	t;

	memset(&t, 0, sizeof(t));
	strlcpy(t.qname, "_25._tcp.mail.example.org", sizeof(t.qname));
	dns_parse(&t, data, size);
	tlsa_set_clear(&t);
	findings_free();
	return 0;
}
