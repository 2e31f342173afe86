/*
 * lurkd: the parent.  Reads the configuration, opens the key files and
 * the listening sockets, starts keyprocs and netproc by fork + re-exec,
 * hands them what they need over imsg, relays their log lines and
 * supervises them: if any child dies, lurkd logs why and exits non-zero.
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "imsg.h"
#include "log.h"
#include "lurkd.h"
#include "proc.h"

static struct lurkd_conf	*conf;
static struct child		*children;
static int			 nchildren, nready;
static int			 debug, verbose;
static char			 self[PATH_MAX];
static const char		*conffile = LURKD_CONF;

__attribute__((__noreturn__)) static void
usage(void)
{
	fprintf(stderr, "usage: lurkd [-dnv] [-D macro=value] [-f file]\n");
	exit(2);
}

/* netproc holds one descriptor per edge connection: take what we may. */
static void
raise_nofile(uint32_t conns)
{
	struct rlimit	 rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_warn("setrlimit RLIMIT_NOFILE");
	}
	/* netproc needs a few descriptors of its own besides connections */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    (rlim_t)conns + 64 > rl.rlim_cur)
		log_warnx("limit connections %u: the descriptor limit (%llu) "
		    "is lower; connections beyond it wait in the backlog",
		    conns, (unsigned long long)rl.rlim_cur);
}

static int
ncpus(void)
{
	long	 n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > LURKD_KEYPROCS_MAX ? LURKD_KEYPROCS_MAX : (int)n;
}

/*
 * The chroot directory must exist, belong to root, be writable by nobody
 * else and be empty: the sandboxed children see nothing in it.
 */
static void
check_chroot(const char *dir)
{
	struct stat	 st;
	char		 path[PATH_MAX], *p;

	if (stat(dir, &st) == -1) {
		if (errno != ENOENT)
			fatal("chroot %s", dir);
		/* make it, and its parents, root-owned 0755 */
		strlcpy(path, dir, sizeof(path));
		for (p = path + 1; *p != '\0'; p++) {
			if (*p != '/')
				continue;
			*p = '\0';
			if (mkdir(path, 0755) == -1 && errno != EEXIST)
				fatal("mkdir %s", path);
			*p = '/';
		}
		if (mkdir(path, 0755) == -1 && errno != EEXIST)
			fatal("mkdir %s", path);
		if (stat(dir, &st) == -1)
			fatal("chroot %s", dir);
	}
	if (!S_ISDIR(st.st_mode))
		fatalx("chroot %s: not a directory", dir);
	if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)))
		fatalx("chroot %s: must be owned by root and writable by "
		    "nobody else", dir);
	if (st.st_nlink > 2)
		fatalx("chroot %s: must be empty", dir);
}

static int
listen_unix(struct listenconf *l, int root)
{
	struct sockaddr_un	 sun;
	mode_t			 old;
	char			 dir[PATH_MAX];
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, l->path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		fatalx("socket path %s: too long", l->path);

	/* one daemon per socket: if it answers, someone is there */
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		fatal("socket");
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
		fatalx("%s: another lurkd is already running", l->path);
	close(fd);
	if (unlink(l->path) == -1 && errno != ENOENT)
		fatal("unlink %s", l->path);

	strlcpy(dir, l->path, sizeof(dir));
	if (mkdir(dirname(dir), 0755) == -1 && errno != EEXIST)
		fatal("mkdir %s", dir);

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		fatal("socket");
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		fatal("bind %s", l->path);
	umask(old);
	if (l->has_group && chown(l->path, -1, l->gid) == -1)
		fatal("chown %s to gid %u", l->path, (unsigned)l->gid);
	if (chmod(l->path, l->mode) == -1)
		fatal("chmod %s", l->path);
	if (listen(fd, SOMAXCONN) == -1)
		fatal("listen %s", l->path);
	return fd;
}

static void
remove_sockets(void)
{
	struct listenconf	*l;

	if (conf == NULL)
		return;
	TAILQ_FOREACH(l, &conf->listeners, entry)
		unlink(l->path);
}

static void
compose(struct child *c, uint32_t type, int fd, const void *data, size_t len)
{
	if (imsg_compose(&c->ibuf, type, 0, 0, fd, data, len) == -1)
		fatal("%s: to %s", __func__, c->name);
	/* flush now: never pile up descriptors in the parent */
	if (fd != -1 && imsgbuf_flush(&c->ibuf) == -1)
		fatal("%s: flush to %s", __func__, c->name);
}

static int
open_key_file(const char *path, const char *what, const char *key)
{
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		fatal("key \"%s\": %s %s", key, what, path);
	return fd;
}

static void
send_config(struct child *net, struct child *kp, int nkp, int *lfds,
    int *pairs, const struct conf_sandbox *sb)
{
	struct conf_global	 g;
	struct conf_key		 ck;
	struct conf_allow	 ca;
	struct conf_listen	 cl;
	struct procfd		 pf;
	struct keyconf		*k;
	struct allow		*a;
	struct listenconf	*l;
	int			 i, idx, fd, kfd, cfd;

	memset(&g, 0, sizeof(g));
	g.keyprocs = nkp;
	g.lenmode = conf->lenmode;
	g.max_message = conf->max_message;
	g.timeout_idle = conf->timeout_idle;
	g.timeout_message = conf->timeout_message;
	g.limit_conns = conf->limit_conns;
	g.limit_user_conns = conf->limit_user_conns;
	g.limit_user_rate = conf->limit_user_rate;
	g.limit_user_burst = conf->limit_user_burst;
	TAILQ_FOREACH(k, &conf->keys, entry)
		g.nkeys++;
	TAILQ_FOREACH(l, &conf->listeners, entry)
		g.nlisten++;

	/* every child locks itself down before it gets anything else */
	for (i = 0; i < nchildren; i++)
		compose(&children[i], IMSG_CONF_SANDBOX, -1, sb, sizeof(*sb));

	for (i = 0; i < nkp; i++)
		compose(&kp[i], IMSG_CONF_GLOBAL, -1, &g, sizeof(g));
	compose(net, IMSG_CONF_GLOBAL, -1, &g, sizeof(g));

	/* netproc <-> keyproc[i] channels */
	for (i = 0; i < nkp; i++) {
		pf.proc = PROC_NETPROC;
		pf.instance = 0;
		compose(&kp[i], IMSG_CTL_PROCFD, pairs[2 * i], &pf, sizeof(pf));
		pf.proc = PROC_KEYPROC;
		pf.instance = i;
		compose(net, IMSG_CTL_PROCFD, pairs[2 * i + 1], &pf,
		    sizeof(pf));
	}
	/* keys: the key fds go to the keyprocs, and only there */
	idx = 0;
	TAILQ_FOREACH(k, &conf->keys, entry) {
		memset(&ck, 0, sizeof(ck));
		ck.index = idx;
		ck.operations = k->operations;
		ck.rsakex_rate = k->rsakex_rate;
		ck.rsakex_burst = k->rsakex_burst;
		strlcpy(ck.name, k->name, sizeof(ck.name));
		kfd = open_key_file(k->private, "private key", k->name);
		cfd = open_key_file(k->certificate, "certificate", k->name);
		for (i = 0; i < nkp; i++) {
			strlcpy(ck.path, k->private, sizeof(ck.path));
			if ((fd = dup(kfd)) == -1)
				fatal("dup");
			compose(&kp[i], IMSG_CONF_KEY, fd, &ck, sizeof(ck));
			strlcpy(ck.path, k->certificate, sizeof(ck.path));
			if ((fd = dup(cfd)) == -1)
				fatal("dup");
			compose(&kp[i], IMSG_CONF_KEYCERT, fd, &ck,
			    sizeof(ck));
		}
		close(kfd);
		close(cfd);

		ck.path[0] = '\0';
		compose(net, IMSG_CONF_POLICY, -1, &ck, sizeof(ck));
		TAILQ_FOREACH(a, &k->allows, entry) {
			ca.index = idx;
			ca.type = a->type;
			ca.id = a->id;
			compose(net, IMSG_CONF_ALLOW, -1, &ca, sizeof(ca));
		}
		idx++;
	}
	i = 0;
	TAILQ_FOREACH(l, &conf->listeners, entry) {
		memset(&cl, 0, sizeof(cl));
		strlcpy(cl.path, l->path, sizeof(cl.path));
		compose(net, IMSG_CONF_LISTEN, lfds[i++], &cl, sizeof(cl));
	}
	for (i = 0; i < nchildren; i++) {
		compose(&children[i], IMSG_CONF_END, -1, NULL, 0);
		if (imsgbuf_flush(&children[i].ibuf) == -1)
			fatal("flush to %s", children[i].name);
	}
}

static struct child *
child_bypid(pid_t pid)
{
	int	 i;

	for (i = 0; i < nchildren; i++)
		if (children[i].pid == pid)
			return &children[i];
	return NULL;
}

static void
kill_children(int sig)
{
	int	 i;

	for (i = 0; i < nchildren; i++)
		if (children[i].alive) {
			children[i].signaled = sig;
			kill(children[i].pid, sig);
		}
}

/* Reap; return the number of children that died unexpectedly. */
static int
reap(int shutting_down)
{
	struct child	*c;
	pid_t		 pid;
	int		 status, lost = 0;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if ((c = child_bypid(pid)) == NULL)
			continue;
		c->alive = 0;
		/*
		 * During shutdown, a child we told to stop is not news when
		 * it exits (perhaps first noticing its peers leave) or dies
		 * of our signal; one killed by another signal (perhaps
		 * before we told it anything) is.
		 */
		if (shutting_down && c->signaled != 0 && (WIFEXITED(status) ||
		    WTERMSIG(status) == c->signaled)) {
			log_debug("%s pid %d stopped", c->name, (int)pid);
			continue;
		}
		lost++;
		if (WIFSIGNALED(status))
			log_warnx("lost child: %s pid %d terminated; signal %d "
			    "(%s)", c->name, (int)pid, WTERMSIG(status),
			    strsignal(WTERMSIG(status)));
		else
			log_warnx("lost child: %s pid %d exited with status "
			    "%d", c->name, (int)pid, WEXITSTATUS(status));
	}
	return lost;
}

static int
alive_children(void)
{
	int	 i, n = 0;

	for (i = 0; i < nchildren; i++)
		n += children[i].alive;
	return n;
}

/* Stop every child, waiting up to 5 seconds before SIGKILL. */
static void
shutdown_children(void)
{
	struct timespec	 ts = { 0, 20 * 1000 * 1000 };
	int		 i;

	/* whoever is already dead died on its own: say so */
	reap(0);
	kill_children(SIGTERM);
	for (i = 0; i < 250 && alive_children() > 0; i++) {
		reap(1);
		if (alive_children() == 0)
			break;
		nanosleep(&ts, NULL);
	}
	if (alive_children() > 0) {
		log_warnx("children did not stop in time: killing them");
		kill_children(SIGKILL);
		while (alive_children() > 0 && waitpid(-1, NULL, 0) > 0)
			reap(1);
	}
}

static void
dispatch_child(struct child *c)
{
	struct imsg	 imsg;
	struct ibuf	 ib;
	char		 line[1200];
	int		 n, pri;

	if ((n = imsgbuf_read(&c->ibuf)) == -1 && errno != ECONNRESET)
		fatal("read from %s", c->name);
	if (n <= 0) {
		/* it is dying; SIGCHLD tells us how */
		c->ibuf.fd = -1;
		return;
	}
	for (;;) {
		if ((n = imsgbuf_get(&c->ibuf, &imsg)) == -1)
			fatal("bad message from %s", c->name);
		if (n == 0)
			break;
		switch (imsg_get_type(&imsg)) {
		case IMSG_LOG:
			/* int priority, then a NUL-terminated line */
			if (imsg_get_ibuf(&imsg, &ib) == -1 ||
			    ibuf_get(&ib, &pri, sizeof(pri)) == -1 ||
			    (n = ibuf_size(&ib)) == 0 ||
			    (size_t)n > sizeof(line) ||
			    ibuf_get(&ib, line, n) == -1 ||
			    line[n - 1] != '\0')
				fatalx("bad IMSG_LOG from %s", c->name);
			log_emit(pri & LOG_PRIMASK, line);
			break;
		case IMSG_READY:
			if (++nready == nchildren)
				log_info("ready: %d keyprocs, netproc; %s mode",
				    nchildren - 1, getuid() == 0 ?
				    "root (chroot, setuid)" : "unprivileged");
			break;
		default:
			fatalx("unexpected imsg %u from %s",
			    imsg_get_type(&imsg), c->name);
		}
		imsg_free(&imsg);
	}
}

static __attribute__((__noreturn__)) void
parent_loop(int sfd)
{
	struct signalfd_siginfo	 si;
	struct pollfd		*pfd;
	int			 i, rc = 0;

	if ((pfd = calloc(nchildren + 1, sizeof(*pfd))) == NULL)
		fatal("calloc");
	for (;;) {
		pfd[0].fd = sfd;
		pfd[0].events = POLLIN;
		for (i = 0; i < nchildren; i++) {
			pfd[i + 1].fd = children[i].ibuf.fd;
			pfd[i + 1].events = POLLIN;
			if (imsgbuf_queuelen(&children[i].ibuf) > 0)
				pfd[i + 1].events |= POLLOUT;
		}
		if (poll(pfd, nchildren + 1, -1) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		for (i = 0; i < nchildren; i++) {
			if (pfd[i + 1].revents & POLLOUT &&
			    imsgbuf_write(&children[i].ibuf) == -1)
				children[i].ibuf.fd = -1;
			if (pfd[i + 1].revents & (POLLIN | POLLHUP | POLLERR))
				dispatch_child(&children[i]);
		}
		if (!(pfd[0].revents & POLLIN))
			continue;
		if (read(sfd, &si, sizeof(si)) != sizeof(si))
			continue;
		switch (si.ssi_signo) {
		case SIGCHLD:
			if (reap(0) == 0)
				continue;
			rc = 1;
			log_warnx("a child died: shutting down");
			break;
		case SIGTERM:
		case SIGINT:
			log_info("received %s, shutting down",
			    strsignal(si.ssi_signo));
			break;
		case SIGHUP:
			log_info("SIGHUP: reload is not supported yet");
			continue;
		case SIGUSR1:
			/* netproc logs its counters */
			for (i = 0; i < nchildren; i++)
				if (children[i].id == PROC_NETPROC &&
				    imsg_compose(&children[i].ibuf,
				    IMSG_CTL_STATS, 0, 0, -1, NULL, 0) == -1)
					fatal("compose");
			continue;
		default:
			continue;
		}
		/* drain log lines the children wrote before they died */
		for (i = 0; i < nchildren; i++)
			if (children[i].ibuf.fd != -1)
				dispatch_child(&children[i]);
		shutdown_children();
		remove_sockets();
		log_info("exiting");
		exit(rc);
	}
}

static void
start_children(int nkp, const struct conf_sandbox *sb)
{
	struct listenconf	*l;
	int			 sp[2], i, *lfds, *pairs, nl = 0;

	TAILQ_FOREACH(l, &conf->listeners, entry)
		nl++;
	if ((lfds = calloc(nl, sizeof(int))) == NULL ||
	    (pairs = calloc(2 * nkp, sizeof(int))) == NULL ||
	    (children = calloc(nkp + 1, sizeof(*children))) == NULL)
		fatal("calloc");
	i = 0;
	TAILQ_FOREACH(l, &conf->listeners, entry)
		lfds[i++] = listen_unix(l, sb->root);

	nchildren = nkp + 1;
	for (i = 0; i < nchildren; i++) {
		struct child	*c = &children[i];

		c->id = i < nkp ? PROC_KEYPROC : PROC_NETPROC;
		c->instance = i < nkp ? i : 0;
		proc_name(c->id, c->instance, c->name, sizeof(c->name));
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0, sp) == -1)
			fatal("socketpair");
		c->pid = proc_exec(self, c->id, c->instance, sp[1], debug,
		    verbose);
		c->alive = 1;
		close(sp[1]);
		if (imsgbuf_init(&c->ibuf, sp[0]) == -1)
			fatal("imsgbuf_init");
		imsgbuf_allow_fdpass(&c->ibuf);
		if (imsgbuf_set_maxsize(&c->ibuf, 8192) == -1)
			fatal("imsgbuf_set_maxsize");
	}
	for (i = 0; i < nkp; i++) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0, sp) == -1)
			fatal("socketpair");
		pairs[2 * i] = sp[0];
		pairs[2 * i + 1] = sp[1];
	}
	send_config(&children[nkp], children, nkp, lfds, pairs, sb);
	free(lfds);
	free(pairs);
}

int
main(int argc, char *argv[], char *envp[])
{
	struct conf_sandbox	 sb;
	struct passwd		*pw;
	const char		*title = NULL;
	const char		*errstr;
	sigset_t		 mask;
	int			 ch, noaction = 0, instance = 0, nkp, sfd;
	ssize_t			 n;

	setproctitle_init(argc, argv, envp);
	log_init(1, LOG_DAEMON);

	while ((ch = getopt(argc, argv, "dD:f:nP:I:v")) != -1) {
		switch (ch) {
		case 'd':
			debug = 1;
			break;
		case 'D':
			if (cmdline_symset(optarg) < 0)
				log_warnx("could not parse macro definition %s",
				    optarg);
			break;
		case 'f':
			conffile = optarg;
			break;
		case 'n':
			noaction = 1;
			break;
		case 'P':
			title = optarg;
			break;
		case 'I':
			instance = strtonum(optarg, 0, LURKD_KEYPROCS_MAX - 1,
			    &errstr);
			if (errstr != NULL)
				fatalx("instance %s is %s", optarg, errstr);
			break;
		case 'v':
			verbose++;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	if (title != NULL) {
		switch (proc_byname(title)) {
		case PROC_KEYPROC:
			keyproc_main(instance, verbose);
		case PROC_NETPROC:
			netproc_main(verbose);
		default:
			fatalx("unknown process %s", title);
		}
	}

	log_setverbose(verbose);
	if ((conf = parse_config(conffile, (verbose ? LURKD_OPT_VERBOSE : 0) |
	    (noaction ? LURKD_OPT_NOACTION : 0))) == NULL)
		exit(1);
	if (noaction) {
		if (verbose)
			print_config(conf);
		else
			fprintf(stderr, "configuration OK\n");
		exit(0);
	}

	memset(&sb, 0, sizeof(sb));
	sb.root = geteuid() == 0;
	if (sb.root) {
		if ((pw = getpwnam(conf->user)) == NULL)
			fatalx("unknown user %s: create it (e.g. useradd "
			    "--system --no-create-home --shell /usr/sbin/nologin "
			    "%s) or set \"user\" in %s", conf->user, conf->user,
			    conffile);
		if (pw->pw_uid == 0)
			fatalx("user %s is root: pick an unprivileged user",
			    conf->user);
		sb.uid = pw->pw_uid;
		sb.gid = pw->pw_gid;
		strlcpy(sb.user, conf->user, sizeof(sb.user));
		strlcpy(sb.chroot, conf->chroot, sizeof(sb.chroot));
		check_chroot(conf->chroot);
	}
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) == -1)
		fatal("readlink /proc/self/exe");
	self[n] = '\0';
	nkp = conf->keyprocs ? conf->keyprocs : ncpus();

	if (!debug && daemon(0, 0) == -1)
		fatal("daemon");
	log_init(debug, LOG_DAEMON);
	log_procinit("parent");
	setproctitle("%s", "parent");

	/* signals arrive through a descriptor the main loop polls */
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) == -1)
		fatal("sigprocmask");
	if ((sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) == -1)
		fatal("signalfd");
	signal(SIGPIPE, SIG_IGN);

	if (sb.root)
		log_info("starting as root: children chroot to %s and run as "
		    "%s (uid %u)", sb.chroot, sb.user, (unsigned)sb.uid);
	else
		log_info("starting as uid %u (not root): no chroot and no "
		    "user change; seccomp, no_new_privs and the rest apply",
		    (unsigned)getuid());
	raise_nofile(conf->limit_conns);
	start_children(nkp, &sb);
	/* the parent keeps root for reload, but nothing more */
	sandbox_harden();
	parent_loop(sfd);
}
