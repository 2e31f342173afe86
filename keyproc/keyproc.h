/*
 * keyproc: holds the private keys.  Talks imsg to the parent (config) and
 * to netproc (public data now; key operations later).
 */
#ifndef KEYPROC_H
#define KEYPROC_H

#include <time.h>

#include <openssl/ec.h>
#include <openssl/evp.h>

#include "lurkd.h"

struct key {
	struct key_public	 pub;
	uint32_t		 operations;	/* EDGE_OP_*, from the parent */
	uint32_t		 tls13_secrets;	/* TLS13_SECRET_BIT()s */
	uint32_t		 tls13_tickets;	/* a session's, at most */
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
size_t	 scheme_list(int, int, int, uint16_t *, size_t);
size_t	 group_point_len(unsigned, int *);
const EC_GROUP *curve_group(int);

/* keyop.c */
EVP_MD_CTX *keyop_signctx(struct key *, const EVP_MD *, int);
void	 keyop_forget(void);
int	 keyop_req_parse(const uint8_t *, size_t, struct keyop_req *,
	    const uint8_t **);
int	 keyop_run(struct key *, const struct keyop_req *, const uint8_t *,
	    uint8_t *, size_t *, const char **);
int	 keyop_sign(struct key *, const struct keyop_req *, const uint8_t *,
	    uint8_t *, size_t *, const char **);
int	 keyop_rsa_decrypt(struct key *, unsigned int, unsigned int,
	    const uint8_t *, size_t, uint8_t *, size_t *, const char **);


/* wire.c */
struct imsgbuf;
int	 keyop_reply(struct imsgbuf *, uint32_t, uint8_t, uint32_t, uint32_t,
	    const uint8_t *,
	    size_t);
void	 key_loaded_fill(struct key_loaded *, const struct key *);
void	 reload_result_fill(struct reload_result *, uint32_t, int, int,
	    const uint8_t *, const char *);

/* keyproc.c: the key table */
struct key *keyproc_key(uint32_t);
struct key *keyproc_key_byspki(const uint8_t *, size_t);
uint32_t keyproc_generation(void);

/* drafts.c, lurk12.c, lurk13.c: the drafts' tls12 and tls13 operations */
struct lurk_wr;
struct imsgbuf;
void	 drafts_init(const struct draftconf *, int);
int	 drafts_reload_ok(const struct draftconf *);
void	 drafts_commit(const struct draftconf *);
const struct draftconf *drafts_conf(void);
int	 drafts_warmup(void);
void	 drafts_keyop(struct imsgbuf *, uint32_t, const struct keyop_req *,
	    const uint8_t *);
int	 drafts_fresh_ok(uint32_t, uint8_t, uint8_t);
int	 lurk12_run(struct key *, const struct keyop_req *, const uint8_t *,
	    struct lurk_wr *, const char **);
int	 tls12_server_random(const uint8_t *, uint8_t, time_t, uint32_t,
	    uint8_t *, const char **);
int	 tls12_prf(const EVP_MD *, const uint8_t *, size_t, const char *,
	    const uint8_t *, size_t, const uint8_t *, size_t, uint8_t *,
	    size_t);
int	 lurk12_warmup(void);
int	 lurk13_run(const struct keyop_req *, const uint8_t *, struct lurk_wr *,
	    struct key **, const char **);
int	 lurk13_warmup(void);
void	 lurk13_init(int);
void	 lurk13_commit(time_t);
/* what a ticket of lurkd's holds, once opened */
struct tls13_ticket {
	uint64_t		 issued;
	uint32_t		 lifetime;
	uint16_t		 suite;
	uint8_t			 psk[EVP_MAX_MD_SIZE];
	size_t			 psklen;
};
int	 lurk13_ticket_seal(const struct key *, uint16_t, const uint8_t *,
	    size_t, uint32_t, uint32_t, time_t, struct lurk_wr *);
int	 lurk13_ticket_open(const uint8_t *, size_t, time_t,
	    struct tls13_ticket *, const char **);

/* tls13ks.c: the TLS 1.3 key schedule */
struct tls13_ks {
	const EVP_MD		*md;
	size_t			 hlen;
	uint8_t			 secret[EVP_MAX_MD_SIZE];	/* the stage's */
};
int	 tls13_hmac(const EVP_MD *, const uint8_t *, size_t, const uint8_t *,
	    size_t, const uint8_t *, size_t, uint8_t *);
int	 tls13_expand_label(const EVP_MD *, const uint8_t *, const char *,
	    const uint8_t *, size_t, uint8_t *, size_t);
int	 tls13_derive(const struct tls13_ks *, const char *, const uint8_t *,
	    uint8_t *);
int	 tls13_ks_init(struct tls13_ks *, const EVP_MD *, const uint8_t *,
	    size_t);
int	 tls13_ks_next(struct tls13_ks *, const uint8_t *, size_t);
int	 tls13_finished(const EVP_MD *, const uint8_t *, const uint8_t *,
	    uint8_t *);
int	 tls13_th_add(EVP_MD_CTX *, uint8_t, const uint8_t *, size_t);
int	 tls13_th_hash(const EVP_MD_CTX *, uint8_t *);
const EVP_MD *tls13_suite_md(uint16_t);

/* sandbox.c */
void	 keyproc_sandbox(void);

#endif
