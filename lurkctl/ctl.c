/*
 * lurkctl's side of a control socket (liblurk/ctl.h): connect, send one
 * request, collect the records until CTL_END or CTL_RESULT.  Every
 * message is checked for its exact size and its strings are ended
 * here; anything lurkctl does not know is an error.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "imsg.h"
#include "lurkctl.h"

#define TERM(field)	((field)[sizeof(field) - 1] = '\0')

static int64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Append one record of size sz to *arr (*n of them). */
static void
append(void *arrp, size_t *n, const void *rec, size_t sz)
{
	void	**arr = arrp;
	char	 *p;

	if ((p = reallocarray(*arr, *n + 1, sz)) == NULL) {
		warnmsg("out of memory");
		exit(EXIT_FAILED);
	}
	memcpy(p + *n * sz, rec, sz);
	*arr = p;
	(*n)++;
}

static void
terminate_strings(uint32_t type, void *p)
{
	struct ctl_show_status	*s = p;
	struct ctl_keyproc	*kp = p;
	struct ctl_listener	*l = p;
	struct ctl_key		*k = p;
	struct ctl_client	*c = p;
	struct ctl_stat_op	*o = p;
	struct ctl_stat		*st = p;
	struct ctl_result	*r = p;

	switch (type) {
	case CTL_STATUS:
		TERM(s->version);
		TERM(s->conffile);
		TERM(s->last_reload_error);
		break;
	case CTL_KEYPROC:
		TERM(kp->state);
		break;
	case CTL_LISTENER:
		TERM(l->kind);
		TERM(l->address);
		TERM(l->state);
		break;
	case CTL_KEY:
		TERM(k->name);
		TERM(k->type);
		TERM(k->curve);
		TERM(k->subject);
		TERM(k->issuer);
		break;
	case CTL_CLIENT:
		TERM(c->transport);
		TERM(c->identity);
		break;
	case CTL_STAT_OP:
		TERM(o->key);
		TERM(o->operation);
		TERM(o->result);
		break;
	case CTL_STAT:
		TERM(st->name);
		TERM(st->label);
		break;
	case CTL_RESULT:
		TERM(r->message);
		break;
	}
}

/* One answer message; 1 once the answer is complete. */
static int
take(struct imsg *imsg, struct ctl_answer *a)
{
	uint8_t		 buf[CTL_MSG_MAX];
	uint32_t	 type = imsg_get_type(imsg);
	size_t		 len = imsg_get_len(imsg);
	long		 want = ctl_answer_size(type);
	char		*t;

	if (want == -1 || (want >= 0 && (size_t)want != len) ||
	    (want == -2 && (len == 0 || len > CTL_TEXT_MAX)) ||
	    imsg_get_id(imsg) != CTL_PROTO_VERSION) {
		warnmsg("lurkd sent what lurkctl does not know (message %u, "
		    "%zu bytes): are they of the same version?", type, len);
		exit(EXIT_FAILED);
	}
	if (len > 0 && imsg_get_data(imsg, buf, len) == -1) {
		warnmsg("imsg_get_data: %s", strerror(errno));
		exit(EXIT_FAILED);
	}
	terminate_strings(type, buf);
	switch (type) {
	case CTL_STATUS:
		memcpy(&a->status, buf, sizeof(a->status));
		a->has_status = 1;
		break;
	case CTL_KEYPROC:
		append(&a->keyprocs, &a->nkeyprocs, buf, len);
		break;
	case CTL_LISTENER:
		append(&a->listeners, &a->nlisteners, buf, len);
		break;
	case CTL_KEY:
		append(&a->keys, &a->nkeys, buf, len);
		break;
	case CTL_CLIENT:
		append(&a->clients, &a->nclients, buf, len);
		break;
	case CTL_STAT_OP:
		append(&a->ops, &a->nops, buf, len);
		break;
	case CTL_STAT:
		append(&a->stats, &a->nstats, buf, len);
		break;
	case CTL_TEXT:
		if ((t = realloc(a->text, a->textlen + len + 1)) == NULL) {
			warnmsg("out of memory");
			exit(EXIT_FAILED);
		}
		memcpy(t + a->textlen, buf, len);
		a->textlen += len;
		t[a->textlen] = '\0';
		a->text = t;
		break;
	case CTL_HEALTH:
		memcpy(&a->health, buf, sizeof(a->health));
		a->has_health = 1;
		break;
	case CTL_RESULT:
		memcpy(&a->result, buf, sizeof(a->result));
		a->has_result = 1;
		return 1;
	case CTL_END:
		return 1;
	}
	return 0;
}

/* A Unix socket connected to path; exits 3 if nobody is there. */
int
unix_connect(const char *path)
{
	struct sockaddr_un	 sun;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		errx_usage("socket path too long: %s", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		warnmsg("socket: %s", strerror(errno));
		exit(EXIT_FAILED);
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		/* lurkd may be there, but not for us: that is a failure */
		if (errno == EACCES || errno == EPERM)
			die("%s: %s: this user may not use the socket",
			    path, strerror(errno));
		warnmsg("daemon not reachable: %s: %s", path, strerror(errno));
		exit(EXIT_UNREACHABLE);
	}
	return fd;
}

/*
 * Send one request to the control socket at path and collect its
 * answer in a.  Exits 3 if lurkd cannot be reached or does not answer
 * within timeout_ms.
 */
int
ctl_run(const char *path, int timeout_ms, uint32_t type, const void *data,
    size_t len, struct ctl_answer *a)
{
	struct imsgbuf	 ib;
	struct imsg	 imsg;
	struct pollfd	 pfd;
	int64_t		 deadline = now_ms() + timeout_ms, left;
	int		 fd, n, done = 0, werr = 0;

	memset(a, 0, sizeof(*a));
	fd = unix_connect(path);
	if (imsgbuf_init(&ib, fd) == -1 ||
	    imsgbuf_set_maxsize(&ib, CTL_MSG_MAX - IMSG_HEADER_SIZE) == -1 ||
	    imsg_compose(&ib, type, CTL_PROTO_VERSION, 0, -1, data, len) ==
	    -1) {
		warnmsg("imsg: %s", strerror(errno));
		exit(EXIT_FAILED);
	}
	while (!done) {
		if ((left = deadline - now_ms()) <= 0) {
			warnmsg("daemon not reachable: %s: no answer in %d ms",
			    path, timeout_ms);
			exit(EXIT_UNREACHABLE);
		}
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (imsgbuf_queuelen(&ib) > 0 && !werr)
			pfd.events |= POLLOUT;
		if (poll(&pfd, 1, left) == -1) {
			if (errno == EINTR)
				continue;
			warnmsg("poll: %s", strerror(errno));
			exit(EXIT_FAILED);
		}
		/*
		 * lurkd may have closed at once, having said why (a peer it
		 * does not allow): read that before giving up.
		 */
		if ((pfd.revents & POLLOUT) && imsgbuf_write(&ib) == -1)
			werr = errno;
		if (!(pfd.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		if ((n = imsgbuf_read(&ib)) == -1 || n == 0) {
			warnmsg("daemon not reachable: %s: %s", path, n == 0 ?
			    (werr ? strerror(werr) :
			    "connection closed before the answer") :
			    strerror(errno));
			exit(EXIT_UNREACHABLE);
		}
		while (!done && (n = imsgbuf_get(&ib, &imsg)) > 0) {
			done = take(&imsg, a);
			imsg_free(&imsg);
		}
		if (n == -1) {
			warnmsg("%s: a message lurkctl cannot read: %s", path,
			    strerror(errno));
			exit(EXIT_FAILED);
		}
	}
	imsgbuf_clear(&ib);
	close(fd);
	return 0;
}

void
ctl_answer_free(struct ctl_answer *a)
{
	free(a->keyprocs);
	free(a->listeners);
	free(a->keys);
	free(a->clients);
	free(a->ops);
	free(a->stats);
	free(a->text);
	memset(a, 0, sizeof(*a));
}
