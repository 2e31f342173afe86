/*
 * Small helpers shared by the bench programs: monotonic time, percentiles
 * over latency samples, the TLS 1.3 CertificateVerify content.
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline double
now_s(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline uint64_t
now_ns(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static inline int
cmp_u32(const void *a, const void *b)
{
	uint32_t	 x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* q in [0,1] of n sorted samples (nearest rank) */
static inline uint32_t
pct_sorted(const uint32_t *v, size_t n, double q)
{
	size_t	 i;

	if (n == 0)
		return 0;
	i = (size_t)(q * (double)n);
	if (i >= n)
		i = n - 1;
	return v[i];
}

static inline void
sort_u32(uint32_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_u32);
}

/* 64 x 0x20, the server context string, 0, then a 32-byte hash */
#define CV_CTX	"TLS 1.3, server CertificateVerify"
#define CV_LEN	(64 + 33 + 1 + 32)

static inline void
cv_content(uint8_t out[CV_LEN], uint32_t salt)
{
	int	 i;

	memset(out, 0x20, 64);
	memcpy(out + 64, CV_CTX, 33);
	out[97] = 0;
	for (i = 0; i < 32; i++)
		out[98 + i] = (uint8_t)(i * 37 + salt * 11 + (salt >> 8));
}

#endif
