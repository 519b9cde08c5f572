/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the bench programs (ctevq-bench-listen, -gen, -scale,
 * ctevq-trace).
 */
#ifndef CTEVQ_BENCHUTIL_H
#define CTEVQ_BENCHUTIL_H

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <sys/time.h>
#include "nlutil.h"	/* now_mono(), write_ready() */

static inline double tv_s(struct timeval tv)
{
	return tv.tv_sec + tv.tv_usec / 1e6;
}

/*
 * A slow consumer's work: a sleep of US microseconds, not a busy loop, so
 * that on a one-CPU guest it does not take the CPU from the traffic
 * generator.  Cut short once *stop is set.  Returns the time waited.
 */
static inline double bench_work(long us, volatile sig_atomic_t *stop)
{
	struct timespec ts = {
		.tv_sec = us / 1000000,
		.tv_nsec = (us % 1000000) * 1000,
	};
	double t0 = now_mono();

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !*stop)
		;
	return now_mono() - t0;
}

#endif /* CTEVQ_BENCHUTIL_H */
