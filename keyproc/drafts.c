/*
 * The drafts' tls12 and tls13 operations on keyproc's side: what is
 * common to both.  netproc parsed the request and chose the key; keyproc
 * parses the very same bytes again with the same parser, and a request
 * that does not parse here is a broken netproc: fatal.  Everything that
 * decides what a key is used for is checked here, whatever netproc
 * checked: the key's policy, the freshness function, the time window,
 * the TLS structures, the secrets asked for.
 */
#include <sys/types.h>

#include <stdint.h>
#include <string.h>
#include <time.h>

#include "drafts.h"
#include "imsg.h"
#include "keyproc.h"
#include "log.h"
#include "lurk.h"
#include "lurkd.h"

static struct draftconf	 conf;
static int		 conf_ok;
int			 drafts_instance;	/* this keyproc's */

void
drafts_init(const struct draftconf *d, int instance)
{
	if (!drafts_conf_ok(d))
		fatalx("%s: bad configuration of the drafts", __func__);
	conf = *d;
	conf_ok = 1;
	drafts_instance = instance;
	lurk13_init(instance);
}

/*
 * The drafts' settings of a reload, checked when it begins: all that the
 * configuration may hold, but the size of the session table, which is
 * allocated once (a reload keeps the running one: lurkd/reload.c).
 */
int
drafts_reload_ok(const struct draftconf *d)
{
	return conf_ok && drafts_conf_ok(d) &&
	    d->tls13_sessions == conf.tls13_sessions;
}

/*
 * A reload's key table is in use: its settings apply from the next
 * request on (a ticket already issued keeps the lifetime sealed in it),
 * and the sessions of keys it no longer has end.
 */
void
drafts_commit(const struct draftconf *d)
{
	if (!drafts_reload_ok(d))
		fatalx("%s: bad configuration of the drafts", __func__);
	conf = *d;
	lurk13_commit(time(NULL));
}

const struct draftconf *
drafts_conf(void)
{
	if (!conf_ok)
		fatalx("%s: no configuration", __func__);
	return &conf;
}

/* Whether a request's freshness function is one lurkd.conf accepts. */
int
drafts_fresh_ok(uint32_t accepted, uint8_t f, uint8_t nullcode)
{
	if (f == 0)	/* sha256, in both drafts */
		return (accepted & LURKD_FRESH_SHA256) != 0;
	if (f == nullcode)
		return (accepted & LURKD_FRESH_NULL) != 0;
	return 0;
}

/* Fetch and run once, before the seccomp filter, what requests will use. */
int
drafts_warmup(void)
{
	return lurk12_warmup() == -1 || lurk13_warmup() == -1 ? -1 : 0;
}

void
drafts_keyop(struct imsgbuf *net, uint32_t id, const struct keyop_req *req,
    const uint8_t *data)
{
	static const uint8_t	 none[1];
	struct lurk_wr		 w;
	struct key		*k = NULL;
	const char		*why = "";
	int			 st;

	memset(&w, 0, sizeof(w));
	if (req->index != KEYOP_NO_KEY &&
	    keyproc_key(req->index)->usage != KEY_USE_EDGE) {
		/* netproc never names a TLS listener's key for the drafts */
		why = "a TLS listener's key";
		st = lurk_status(req->designation, LURK_ERR_UNDEFINED);
	} else switch (req->designation) {
	case LURK_DESIG_TLS12:
		k = keyproc_key(req->index);
		st = lurk12_run(k, req, data, &w, &why);
		break;
	case LURK_DESIG_TLS13:
		st = lurk13_run(req, data, &w, &k, &why);
		break;
	default:
		fatalx("%s: designation %u from netproc", __func__,
		    req->designation);
	}
	if (st == LURK_ST_SUCCESS && (w.bad || w.len == 0)) {
		why = "out of memory";
		st = lurk_status(req->designation, LURK_ERR_UNDEFINED);
	}
	if (st != LURK_ST_SUCCESS) {
		/* the fields of the edge's refusals (keyproc.c) */
		log_op(LOG_ERR, &(struct log_op){ -1, req->uid, -1,
		    transport_name(req->transport),
		    k != NULL ? k->pub.name : NULL,
		    kop_name(kop_index(req->designation, req->type)),
		    draft_status_name(req->designation, st), why, NULL },
		    "refused: key \"%s\" %s uid %u: %s",
		    k != NULL ? k->pub.name : "-",
		    draft_type_name(req->designation, req->type), req->uid,
		    why);
		lurk_wr_free(&w);
	}
	/* the key used: a session's exchange names none, netproc learns it */
	if (keyop_reply(net, id, st, k != NULL ? k->pub.index : KEYOP_NO_KEY,
	    keyproc_generation(), w.len > 0 ? w.p : none, w.len) == -1)
		fatal("%s: compose", __func__);
	/* secrets now live in the queue, which wipes when freed */
	lurk_wr_free(&w);
}
