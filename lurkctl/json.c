/*
 * A small streaming JSON writer for lurkctl -j: objects and arrays
 * nested up to JSON_DEPTH, two spaces of indent, and every string
 * escaped (quotes, backslashes, control characters; bytes that are not
 * UTF-8 become U+FFFD), whoever wrote it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lurkctl.h"

#define JSON_DEPTH	16

static struct {
	int	 items;		/* written at this level so far */
	int	 array;
} stack[JSON_DEPTH];
static int	 depth = -1;

static void
indent(void)
{
	int	 i;

	for (i = 0; i <= depth; i++)
		fputs("  ", stdout);
}

/* A comma and a new line before all but the first item, and the name. */
static void
item(const char *name)
{
	if (depth >= 0) {
		if (stack[depth].items++ > 0)
			putchar(',');
		putchar('\n');
		indent();
	}
	if (name != NULL && depth >= 0 && !stack[depth].array) {
		json_quote(name);
		fputs(": ", stdout);
	}
}

/* Length of the UTF-8 sequence at p (of n bytes), 0 if not one. */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	size_t		 len, i;
	uint32_t	 cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	/* no overlong forms, no surrogates, nothing past U+10FFFF */
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

void
json_quote(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n = strlen(s), len;

	putchar('"');
	while (n > 0) {
		switch (*p) {
		case '"':
			fputs("\\\"", stdout);
			break;
		case '\\':
			fputs("\\\\", stdout);
			break;
		case '\n':
			fputs("\\n", stdout);
			break;
		case '\r':
			fputs("\\r", stdout);
			break;
		case '\t':
			fputs("\\t", stdout);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f) {
				printf("\\u%04x", *p);
				break;
			}
			if ((len = utf8_len(p, n)) == 0) {
				fputs("\\ufffd", stdout);
				break;
			}
			fwrite(p, 1, len, stdout);
			p += len;
			n -= len;
			continue;
		}
		p++;
		n--;
	}
	putchar('"');
}

static void
open_level(const char *name, int array)
{
	item(name);
	putchar(array ? '[' : '{');
	if (++depth >= JSON_DEPTH)
		die("json: nested too deeply");
	stack[depth].items = 0;
	stack[depth].array = array;
}

void
json_object(const char *name)
{
	open_level(name, 0);
}

void
json_array(const char *name)
{
	open_level(name, 1);
}

void
json_end(void)
{
	int	 array = stack[depth].array, items = stack[depth].items;

	depth--;
	if (items > 0) {
		putchar('\n');
		indent();
	}
	putchar(array ? ']' : '}');
	if (depth < 0)
		putchar('\n');
}

void
json_string(const char *name, const char *v)
{
	item(name);
	json_quote(v);
}

void
json_uint(const char *name, unsigned long long v)
{
	item(name);
	printf("%llu", v);
}

void
json_int(const char *name, long long v)
{
	item(name);
	printf("%lld", v);
}

void
json_bool(const char *name, int v)
{
	item(name);
	fputs(v ? "true" : "false", stdout);
}

void
json_null(const char *name)
{
	item(name);
	fputs("null", stdout);
}

/* A number already in JSON's syntax (checked by the caller). */
void
json_number(const char *name, const char *v)
{
	item(name);
	fputs(v, stdout);
}
