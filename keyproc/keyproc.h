/*
 * keyproc: holds the private keys.  Talks imsg to the parent (config) and
 * to netproc (public data now; key operations later).
 */
#ifndef KEYPROC_H
#define KEYPROC_H

#include <openssl/evp.h>

#include "lurkd.h"

struct key {
	struct key_public	 pub;
	uint32_t		 operations;	/* EDGE_OP_*, from the parent */
	int			 usage;		/* enum key_usage */
	EVP_PKEY		*pkey;
	uint8_t			*spki;		/* SubjectPublicKeyInfo DER */
	size_t			 spki_len;
	uint8_t			*chain;		/* certificate_list: cert<3>... */
	size_t			 chain_len;
	uint8_t			 id32[4];	/* sha256_32 of the drafts */
	int			 privfd;
	int			 certfd;
	/* ready signing contexts, one per scheme seen, copied per request */
#define KEY_SIGNCTX_MAX	8
	EVP_MD_CTX		*signctx[KEY_SIGNCTX_MAX];
	unsigned		 signscheme[KEY_SIGNCTX_MAX];
	char			 privpath[PATH_MAX];
	char			 certpath[PATH_MAX];
};

/* keys.c */
#define KEYFILE_MAX	(1024 * 1024)	/* bytes of a private key file */
int	 key_load(struct key *, char *, size_t);
int	 key_parse_private(struct key *, uint8_t *, size_t, char *, size_t);
void	 key_free(struct key *);
int	 key_warmup(struct key *, char *, size_t);

/* tlscheck.c */
int	 tlscheck_init(void);
int	 tls13_check(const uint8_t *, size_t, const char **);
int	 tls13_client_check(const uint8_t *, size_t, const char **);
int	 tls12_check(const uint8_t *, size_t, const char **);
int	 scheme_check(int, int, int, unsigned, const EVP_MD **, int *,
	    const char **);

/* keyop.c */
EVP_MD_CTX *keyop_signctx(struct key *, const EVP_MD *, int);
void	 keyop_forget(void);
int	 keyop_req_parse(const uint8_t *, size_t, struct keyop_req *,
	    const uint8_t **);
int	 keyop_run(struct key *, const struct keyop_req *, const uint8_t *,
	    uint8_t *, size_t *, const char **);


/* wire.c */
struct imsgbuf;
int	 keyop_reply(struct imsgbuf *, uint32_t, uint8_t, const uint8_t *,
	    size_t);
void	 key_loaded_fill(struct key_loaded *, const struct key *);
void	 reload_result_fill(struct reload_result *, uint32_t, int, int,
	    const uint8_t *, const char *);

/* sandbox.c */
void	 keyproc_sandbox(void);

#endif
