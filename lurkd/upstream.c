/*
 * upstream blocks, the parent's part: netproc is chrooted without
 * resolver files and cannot open files, so the parent resolves each
 * upstream's name (at start and at every reload) and opens and checks
 * its CA file; netproc gets the addresses, the routes and the file
 * (netproc/relay.c).  The upstream's client key is a key of the
 * keyprocs' (keyset_build).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/x509.h>

#include "imsg.h"
#include "log.h"
#include "lurkd.h"
#include "parent.h"
#include "proc.h"
#include "tlsfiles.h"

/*
 * Resolve each upstream of c and open its CA file, into up; -1 and err
 * (every failure said, each after the other) if one fails.
 */
int
upstream_prepare(const struct lurkd_conf *c, struct upstate *up, char *err,
    size_t errlen)
{
	const struct upstreamconf	*u;
	struct conf_upstream		*cu;
	struct addrinfo			 hints, *res, *ai;
	X509_STORE			*store;
	char				 port[8], e[PATH_MAX + 256];
	char				 who[LURKD_NAME_MAX + 16];
	size_t				 n;
	int				 i = 0, rc = 0, gai;

	memset(up, 0, sizeof(*up));
	for (i = 0; i < LURKD_UPSTREAM_MAX; i++)
		up->cafd[i] = -1;
	err[0] = '\0';
	i = 0;
	TAILQ_FOREACH(u, &c->upstreams, entry) {
		cu = &up->cu[i];
		cu->index = i;
		cu->port = u->port;
		strlcpy(cu->name, u->name, sizeof(cu->name));
		strlcpy(cu->host, u->host, sizeof(cu->host));
		snprintf(port, sizeof(port), "%u", u->port);
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_NUMERICSERV;
		e[0] = '\0';
		if ((gai = getaddrinfo(u->host, port, &hints, &res)) != 0)
			snprintf(e, sizeof(e), "upstream \"%s\": %s: %s",
			    u->name, u->host, gai_strerror(gai));
		else {
			for (ai = res; ai != NULL &&
			    cu->naddrs < LURKD_UPADDR_MAX; ai = ai->ai_next)
				if ((ai->ai_family == AF_INET ||
				    ai->ai_family == AF_INET6) &&
				    ai->ai_addrlen <= sizeof(cu->addrs[0]))
					memcpy(&cu->addrs[cu->naddrs++],
					    ai->ai_addr, ai->ai_addrlen);
			freeaddrinfo(res);
			if (cu->naddrs == 0)
				snprintf(e, sizeof(e), "upstream \"%s\": %s: "
				    "no IPv4 or IPv6 address", u->name,
				    u->host);
		}
		if (e[0] == '\0') {
			snprintf(who, sizeof(who), "upstream \"%s\"",
			    u->name);
			up->cafd[i] = open_key_file(u->ca, "ca", who, e,
			    sizeof(e));
			if (up->cafd[i] != -1) {
				n = snprintf(e, sizeof(e), "upstream \"%s\": ",
				    u->name);
				if (tlsfiles_load(up->cafd[i], u->ca, -1, NULL,
				    NULL, &store, NULL, e + n,
				    sizeof(e) - n) == 0) {
					X509_STORE_free(store);
					e[0] = '\0';
				}
			}
		}
		if (e[0] != '\0') {
			n = strlen(err);
			if (n < errlen)
				snprintf(err + n, errlen - n, "%s%s",
				    n > 0 ? "; " : "", e);
			rc = -1;
		}
		i++;
	}
	up->n = i;
	if (rc == -1)
		upstream_close(up);
	return rc;
}

void
upstream_close(struct upstate *up)
{
	int	 i;

	for (i = 0; i < LURKD_UPSTREAM_MAX; i++) {
		if (up->cafd[i] != -1)
			close(up->cafd[i]);
		up->cafd[i] = -1;
	}
}

/* To netproc, at start or in a reload: the upstreams, routes, CA files. */
void
upstream_send(struct child *net, const struct lurkd_conf *c,
    struct upstate *up)
{
	const struct upstreamconf	*u;
	struct conf_route		 cr;
	struct conf_tlsfile		 cf;
	int				 i = 0, j;

	TAILQ_FOREACH(u, &c->upstreams, entry) {
		if (i >= up->n)
			fatalx("%s: upstreams changed", __func__);
		compose(net, IMSG_CONF_UPSTREAM, -1, &up->cu[i],
		    sizeof(up->cu[i]));
		for (j = 0; j < u->nroutes; j++) {
			memset(&cr, 0, sizeof(cr));
			cr.index = i;
			cr.type = u->routes[j].type;
			strlcpy(cr.name, u->routes[j].name, sizeof(cr.name));
			memcpy(cr.spki, u->routes[j].spki, sizeof(cr.spki));
			compose(net, IMSG_CONF_ROUTE, -1, &cr, sizeof(cr));
		}
		memset(&cf, 0, sizeof(cf));
		cf.index = i;
		cf.kind = TLSFILE_UPCA;
		strlcpy(cf.path, u->ca, sizeof(cf.path));
		compose(net, IMSG_CONF_TLSFILE, up->cafd[i], &cf, sizeof(cf));
		up->cafd[i] = -1;	/* the message took it */
		i++;
	}
}
