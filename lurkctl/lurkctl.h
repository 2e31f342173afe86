/*
 * lurkctl: shared by its modules.  lurkctl.c parses the command line
 * and runs the command; ctl.c talks to a control socket; output.c
 * prints what came back, as text or (-j) as JSON through json.c.
 */
#ifndef LURKCTL_H
#define LURKCTL_H

#include <stddef.h>
#include <stdint.h>

#include "ctl.h"
#include "keyref.h"

#define EXIT_FAILED		1
#define EXIT_USAGE		2
#define EXIT_UNREACHABLE	3

void	 errx_usage(const char *, ...)
	    __attribute__((__format__(printf, 1, 2), __noreturn__));
void	 die(const char *, ...)
	    __attribute__((__format__(printf, 1, 2), __noreturn__));
void	 warnmsg(const char *, ...) __attribute__((__format__(printf, 1, 2)));

/* json.c */
void	 json_object(const char *);
void	 json_array(const char *);
void	 json_end(void);
void	 json_string(const char *, const char *);
void	 json_uint(const char *, unsigned long long);
void	 json_int(const char *, long long);
void	 json_bool(const char *, int);
void	 json_null(const char *);
void	 json_number(const char *, const char *);
void	 json_quote(const char *);

/* ctl.c: one request to a control socket, its answer collected */
struct ctl_answer {
	struct ctl_show_status	 status;
	int			 has_status;
	struct ctl_keyproc	*keyprocs;
	size_t			 nkeyprocs;
	struct ctl_listener	*listeners;
	size_t			 nlisteners;
	struct ctl_key		*keys;
	size_t			 nkeys;
	struct ctl_client	*clients;
	size_t			 nclients;
	struct ctl_stat_op	*ops;
	size_t			 nops;
	struct ctl_stat		*stats;
	size_t			 nstats;
	char			*text;
	size_t			 textlen;
	struct ctl_health	 health;
	int			 has_health;
	struct ctl_result	 result;
	int			 has_result;
};
int	 unix_connect(const char *);
int	 ctl_run(const char *, int, uint32_t, const void *, size_t,
	    struct ctl_answer *);
void	 ctl_answer_free(struct ctl_answer *);

/* lurkctl ping */
struct ping_result {
	const char		*socket;
	double			 ping_ms;
	int			 lenmode;	/* LURK_LEN_* */
	uint8_t			 status;	/* of the ping */
	uint8_t			 ext[64][2];	/* designation, version */
	size_t			 next;
	uint8_t			 state[4];
	int			 has_caps;
};

/* keyref, as it writes it */
struct keyref_out {
	const char		*name;
	size_t			 namelen;
	const uint8_t		*key_id;
	const char		*socket;	/* NULL: the provider's */
	size_t			 nendpoints;	/* 0: socket or provider's */
	const char		*endpoints[KEYREF_ENDPOINTS_MAX];
	const char		*tls_certificate;	/* NULL: the edge's */
	const char		*tls_key;
	const char		*tls_ca;
	const char		*pem;
};

/* output.c: one back end for text, one for JSON */
struct output {
	void	(*status)(const struct ctl_answer *);
	void	(*keys)(const struct ctl_answer *);
	void	(*clients)(const struct ctl_answer *);
	void	(*stats)(const struct ctl_answer *);
	void	(*metrics)(const struct ctl_answer *);
	void	(*health)(const struct ctl_answer *);
	void	(*result)(const char *, const struct ctl_answer *);
	void	(*ping)(const struct ping_result *);
	void	(*keyref)(const struct keyref_out *);
};
extern const struct output	 text_output, json_output;

#endif
