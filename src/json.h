/* json.c: strict JSON strings from any bytes. */
#ifndef JSON_H
#define JSON_H

#include <stddef.h>
#include <stdio.h>

/* The length of the well-formed UTF-8 character at p, or 0. */
size_t	utf8_char(const unsigned char *, size_t n);
/* S as a JSON string (NULL as null). */
void	json_string(FILE *, const char *s);

#endif /* JSON_H */
