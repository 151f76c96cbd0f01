/*
 * libFuzzer harness: the bytes of a conf.d file through the settings
 * parser, which must refuse anything a shell would read differently.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/extern.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct settings	 s = { .include_root = -1, .warn_days = -1 };
	char		*text;

	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	conf_parse(&s, text, size, "fuzz.conf");
	conf_free(&s);
	free(text);
	return 0;
}
