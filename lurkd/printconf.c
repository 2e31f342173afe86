/*
 * Print a parsed configuration in canonical lurkd.conf(5) form, every
 * default spelled out: what "lurkd -nv" shows.  The output parses again
 * to the same configuration.
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <limits.h>
#include <stdio.h>

#include "lurkd.h"

static void
print_string(const char *s)
{
	putchar('"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			putchar('\\');
		putchar(*s);
	}
	putchar('"');
}

static void
print_listen(const struct listenconf *l)
{
	printf("listen on unix ");
	print_string(l->path);
	printf(" mode %04o", (unsigned int)(l->mode & 0777));
	if (l->has_group) {
		printf(" group ");
		if (l->group[0] != '\0')
			print_string(l->group);
		else
			printf("%u", (unsigned int)l->gid);
	}
	putchar('\n');
}

static void
print_allow(const struct allow *a)
{
	printf("\tallow ");
	switch (a->type) {
	case ALLOW_UID:
		printf("uid %u", a->id);
		break;
	case ALLOW_GID:
		printf("gid %u", a->id);
		break;
	case ALLOW_USER:
		printf("user ");
		print_string(a->name);
		break;
	case ALLOW_GROUP:
		printf("group ");
		print_string(a->name);
		break;
	}
	putchar('\n');
}

static void
print_key(const struct keyconf *k)
{
	const struct allow	*a;

	printf("key ");
	print_string(k->name);
	printf(" {\n\tprivate ");
	print_string(k->private);
	printf("\n\tcertificate ");
	print_string(k->certificate);
	putchar('\n');
	TAILQ_FOREACH(a, &k->allows, entry)
		print_allow(a);
	printf("}\n");
}

void
print_config(struct lurkd_conf *conf)
{
	const struct listenconf	*l;
	const struct keyconf	*k;

	printf("user ");
	print_string(conf->user);
	printf("\nchroot ");
	print_string(conf->chroot);
	putchar('\n');
	if (conf->keyprocs == 0)
		printf("keyprocs auto\n");
	else
		printf("keyprocs %d\n", conf->keyprocs);
	printf("lurk length %s\n",
	    conf->lenmode == LENMODE_MESSAGE ? "message" : "payload");
	printf("max message size %u\n", conf->max_message);

	if (!TAILQ_EMPTY(&conf->listeners))
		putchar('\n');
	TAILQ_FOREACH(l, &conf->listeners, entry)
		print_listen(l);

	TAILQ_FOREACH(k, &conf->keys, entry) {
		putchar('\n');
		print_key(k);
	}
	fflush(stdout);
}
