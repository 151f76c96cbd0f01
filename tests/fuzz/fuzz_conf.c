/*
 * libFuzzer harness: the bytes of a conf.d file through the settings
 * parser, which must refuse anything a shell would read differently.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/conf.h"
#include "../../src/finding.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct settings	 s;
	char		*text;

	conf_init(&s);
	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	conf_parse(&s, text, size, "fuzz.conf");
	conf_free(&s);
	free(text);
	findings_free();	/* what it said, said nowhere */
	return 0;
}
