/*
 * netproc.c's side of the control and HTTP listeners, for the fuzz
 * targets of control.c and http.c (npstubs.c): epoll remembered, the
 * parent asked, time that moves only when a target says so.
 */
#ifndef NPSTUBS_H
#define NPSTUBS_H

#include <sys/types.h>
#include <sys/un.h>

#include <time.h>

extern void	*np_last_ptr;	/* what was given to epoll last */
extern int	 np_asked;	/* netproc_ask_status() was called */
extern time_t	 np_now;	/* monotime() */

int	 np_listen_abstract(const char *, struct sockaddr_un *);

#endif
