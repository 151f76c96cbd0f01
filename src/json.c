/*
 * JSON strings, by hand: file names and subjects are bytes, not text, so
 * whatever library wrote the document, the UTF-8 check would be ours
 * (jansson refuses invalid UTF-8 outright).  What is valid UTF-8 is
 * copied; each byte that is not becomes U+FFFD; '"', '\' and every
 * control character (DEL too) are escaped, so the output is ASCII but
 * for the valid multi-byte characters, and always strict JSON.
 */
#include <stdio.h>
#include <string.h>

#include "json.h"

/*
 * The length of the well-formed UTF-8 character at p (n bytes left), as
 * RFC 3629 table 3 has them: no overlong forms, no surrogates, nothing
 * above U+10FFFF.  0 when the byte at p starts none.
 */
size_t
utf8_char(const unsigned char *p, size_t n)
{
	/* Lead byte range, the second byte's range, the length. */
	static const struct {
		unsigned char	lo, hi, lo2, hi2, len;
	} forms[] = {
		{ 0x00, 0x7f, 0x00, 0x00, 1 },
		{ 0xc2, 0xdf, 0x80, 0xbf, 2 },
		{ 0xe0, 0xe0, 0xa0, 0xbf, 3 },	/* overlong below */
		{ 0xe1, 0xec, 0x80, 0xbf, 3 },
		{ 0xed, 0xed, 0x80, 0x9f, 3 },	/* surrogates above */
		{ 0xee, 0xef, 0x80, 0xbf, 3 },
		{ 0xf0, 0xf0, 0x90, 0xbf, 4 },	/* overlong below */
		{ 0xf1, 0xf3, 0x80, 0xbf, 4 },
		{ 0xf4, 0xf4, 0x80, 0x8f, 4 },	/* > U+10FFFF above */
	};
	size_t	i, k;

	if (n == 0)
		return 0;
	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		if (p[0] < forms[i].lo || p[0] > forms[i].hi)
			continue;
		if (forms[i].len > n)
			return 0;
		if (forms[i].len > 1 && (p[1] < forms[i].lo2 ||
		    p[1] > forms[i].hi2))
			return 0;
		for (k = 2; k < forms[i].len; k++)
			if (p[k] < 0x80 || p[k] > 0xbf)
				return 0;
		return forms[i].len;
	}
	return 0;
}

/* S as a JSON string, quotes included; NULL as null. */
void
json_string(FILE *f, const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n, left;

	if (s == NULL) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (left = strlen(s); left > 0; p += n, left -= n) {
		if ((n = utf8_char(p, left)) == 0) {
			fputs("\\ufffd", f);
			n = 1;
		} else if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p == '\t')
			fputs("\\t", f);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fwrite(p, 1, n, f);
	}
	fputc('"', f);
}
