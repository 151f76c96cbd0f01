/*
 * libFuzzer harness: the bytes of one input file through the PEM reader
 * (certificates and a key), then chain assembly and the bundle's encoding
 * — the helper's parsers of untrusted file content.
 */
#include <stdint.h>
#include <stdlib.h>

#include "../../src/chain.h"
#include "../../src/finding.h"
#include "../../src/pem.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char	*src = "fuzz.pem";
	struct pool		 pool = { 0 };
	struct key		 key = { 0 };
	struct chain		 chain;
	unsigned char		*buf = NULL;
	size_t			 len = 0;

	if (pem_load(src, data, size, &pool, &key, 1) == 0 && pool.n > 0 &&
	    chain_build(&pool, &key, src, &src, 1, 0, &chain) == 0 &&
	    chain_pem(&chain, key.pkey ? &key : NULL, &buf, &len) == 0)
		freezero(buf, len);
	pool_free(&pool);
	key_free(&key);
	findings_free();	/* what it said, said nowhere */
	return 0;
}
