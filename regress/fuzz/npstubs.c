/* netproc.c's side, for fuzz_control and fuzz_http (npstubs.h). */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lurkd.h"
#include "netproc.h"
#include "npstubs.h"

void	*np_last_ptr;
int	 np_asked;
time_t	 np_now = 1000;

void
netproc_ep_add(int fd, uint32_t events, void *ptr)
{
	np_last_ptr = ptr;
}

void
netproc_ep_mod(int fd, uint32_t events, void *ptr)
{
}

void
netproc_ask_status(void)
{
	np_asked = 1;
}

void
netproc_pause_accept(void)
{
	abort();	/* the targets do not run out of descriptors */
}

time_t
monotime(void)
{
	return np_now;
}

/* A listening socket in the abstract namespace: no file to remove. */
int
np_listen_abstract(const char *what, struct sockaddr_un *a)
{
	int	 fd;

	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	snprintf(a->sun_path + 1, sizeof(a->sun_path) - 1,
	    "lurkd-fuzz-%s-%d", what, (int)getpid());
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)a, sizeof(*a)) == -1 ||
	    listen(fd, 4) == -1)
		abort();
	return fd;
}
