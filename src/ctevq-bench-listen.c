// SPDX-License-Identifier: GPL-2.0
/*
 * ctevq-bench-listen: the three listeners of the selective-listening
 * benchmark (scripts/bench.sh).  Every mode does the same work per message
 * it receives: parse it with libnetfilter_conntrack and test whether it is
 * a TCP/UDP connection to the wanted destination port.  They differ in how
 * the messages reach the socket:
 *
 *   -q N   bind ct event queue N (the ruleset selects the connections)
 *   -m     join the ctnetlink multicast groups, filter in userspace
 *   -B     join the multicast groups with a classic BPF socket filter that
 *          drops, in the kernel, every message not to the wanted port
 *
 * libnetfilter_conntrack's nfct_filter_attach() cannot match ports (it
 * knows L4 protocol, TCP state, addresses and mark), so -B attaches an
 * equivalent hand-written classic BPF program that walks the netlink
 * attributes with the SKF_AD_NLATTR / SKF_AD_NLATTR_NEST helpers (the
 * same ancillary loads libnetfilter_conntrack's filters use).
 *
 * At exit (SIGTERM/SIGINT or -t) one line goes to stdout:
 *   mode=M received=N wanted=N unwanted=N enobufs=N wakeups=N busy=S
 *   cpu_user=S cpu_sys=S
 *   [work_us=N worked=S]
 * cpu_* is getrusage(RUSAGE_SELF) from the moment the socket is ready.
 * -w USEC models a slow consumer: the work per message is a sleep, not a
 * busy loop, so that on the one-CPU guest it does not take the CPU from
 * the traffic generator (the consumer, not the generator, must be the
 * limit); worked is the time actually spent in it.
 * busy is the CLOCK_MONOTONIC time from each return of poll() to the next
 * call of poll() (recv syscalls + parsing + filtering), summed: in a UML
 * guest getrusage() only has jiffy (10 ms) resolution and its samples are
 * phase-locked to the generator's timer ticks, so busy is the usable
 * measure there.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include "ctevq_uapi.h"
#include "nlutil.h"
#include "benchutil.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

#define PROG "ctevq-bench-listen"

static volatile sig_atomic_t stop;
static unsigned long received, wanted, unwanted, enobufs, wakeups;
static double busy, worked;
static uint16_t want_port;
static long work_us;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: " PROG " (-q N | -m | -B) -p PORT [-b RCVBUF] [-r READY] [-t SECS] [-d]\n"
"  -q N       bind ct event queue N\n"
"  -m         multicast, filter in userspace\n"
"  -B         multicast with a classic BPF socket filter\n"
"  -p PORT    wanted destination port (TCP and UDP)\n"
"  -b BYTES   SO_RCVBUFFORCE (fallback SO_RCVBUF)\n"
"  -r FILE    create FILE once the socket is ready\n"
"  -t SECS    exit after SECS seconds\n"
"  -d         with -q: bind for DESTROY events only\n"
"  -w USEC    after each message received, wait USEC microseconds (a\n"
"             consumer's per-event work: a database insert, a sync message)\n");
}

/*
 * Classic BPF: accept (the whole message) only TCP/UDP with orig dport ==
 * port.  Jump offsets count instructions after the jump; DROP is insn 22.
 */
static int attach_bpf(int fd, uint16_t port)
{
	struct sock_filter prog[] = {
		/* 0: A = offset of CTA_TUPLE_ORIG among the top attributes */
		BPF_STMT(BPF_LD | BPF_IMM, NLMSG_HDRLEN + sizeof(struct nfgenmsg)),
		BPF_STMT(BPF_LDX | BPF_IMM, CTA_TUPLE_ORIG),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_NLATTR),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 22 - 3 - 1, 0),
		/* 4: A = CTA_TUPLE_PROTO inside it, saved in M[0] */
		BPF_STMT(BPF_LDX | BPF_IMM, CTA_TUPLE_PROTO),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_NLATTR_NEST),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 22 - 6 - 1, 0),
		BPF_STMT(BPF_ST, 0),
		/* 8: CTA_PROTO_NUM must be TCP or UDP */
		BPF_STMT(BPF_LDX | BPF_IMM, CTA_PROTO_NUM),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_NLATTR_NEST),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 22 - 10 - 1, 0),
		BPF_STMT(BPF_MISC | BPF_TAX, 0),
		BPF_STMT(BPF_LD | BPF_B | BPF_IND, NLA_HDRLEN),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_TCP, 1, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 0, 22 - 14 - 1),
		/* 15: CTA_PROTO_DST_PORT (network order; BPF loads as host) */
		BPF_STMT(BPF_LD | BPF_MEM, 0),
		BPF_STMT(BPF_LDX | BPF_IMM, CTA_PROTO_DST_PORT),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_NLATTR_NEST),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 22 - 18 - 1, 0),
		BPF_STMT(BPF_MISC | BPF_TAX, 0),
		BPF_STMT(BPF_LD | BPF_H | BPF_IND, NLA_HDRLEN),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, port, 1, 0),
		/* 22 */
		BPF_STMT(BPF_RET | BPF_K, 0),			/* drop */
		BPF_STMT(BPF_RET | BPF_K, 0xffffffff),		/* accept */
	};
	struct sock_fprog fprog = {
		.len = sizeof(prog) / sizeof(prog[0]),
		.filter = prog,
	};

	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog,
			  sizeof(fprog));
}

static void handle_msg(const struct nlmsghdr *nlh)
{
	struct nf_conntrack *ct;
	bool match = false;

	if (nlh->nlmsg_type < NLMSG_MIN_TYPE ||
	    NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_CTNETLINK)
		return;
	received++;
	ct = nfct_new();
	if (!ct) {
		perror(PROG ": nfct_new");
		exit(1);
	}
	if (nfct_nlmsg_parse(nlh, ct) == 0 &&
	    nfct_attr_is_set(ct, ATTR_ORIG_L4PROTO) > 0 &&
	    nfct_attr_is_set(ct, ATTR_ORIG_PORT_DST) > 0) {
		uint8_t l4 = nfct_get_attr_u8(ct, ATTR_ORIG_L4PROTO);

		match = (l4 == IPPROTO_TCP || l4 == IPPROTO_UDP) &&
			ntohs(nfct_get_attr_u16(ct, ATTR_ORIG_PORT_DST)) ==
			want_port;
	}
	nfct_destroy(ct);
	if (match)
		wanted++;
	else
		unwanted++;
	if (work_us > 0)
		worked += bench_work(work_us, &stop);
}

int main(int argc, char **argv)
{
	static char rx[256 * 1024];
	const char *mode = NULL, *ready = NULL;
	struct rusage r0, r1;
	struct mnl_socket *nl;
	struct sigaction sa;
	double timeout = -1, deadline = 0;
	long rcvbuf = 0;
	int queue = -1, opt, fd, one = 1;
	bool destroy_only = false;

	while ((opt = getopt(argc, argv, "q:mBp:b:r:t:dw:h")) != -1) {
		switch (opt) {
		case 'q':
			queue = atoi(optarg);
			mode = "queue";
			break;
		case 'm':
			mode = "userspace_filter";
			break;
		case 'B':
			mode = "bpf_filter";
			break;
		case 'p':
			want_port = atoi(optarg);
			break;
		case 'b':
			rcvbuf = atol(optarg);
			break;
		case 'r':
			ready = optarg;
			break;
		case 't':
			timeout = atof(optarg);
			break;
		case 'd':
			destroy_only = true;
			break;
		case 'w':
			work_us = atol(optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!mode || !want_port || optind < argc) {
		usage(stderr);
		return 2;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror(PROG ": netlink socket");
		return 1;
	}
	fd = mnl_socket_get_fd(nl);
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	if (rcvbuf > 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) < 0) {
		perror(PROG ": SO_RCVBUF");
		return 1;
	}
	if (queue >= 0) {
		int err = evq_cfg(nl, queue, CTNL_EVQ_CMD_BIND,
				  destroy_only ? CTNL_EVQ_EV_DESTROY : 0);

		if (err) {
			fprintf(stderr, PROG ": bind queue %d: %s\n", queue,
				strerror(err));
			return 1;
		}
	} else {
		static const int groups[] = {
			NFNLGRP_CONNTRACK_NEW, NFNLGRP_CONNTRACK_UPDATE,
			NFNLGRP_CONNTRACK_DESTROY,
		};

		if (!strcmp(mode, "bpf_filter") && attach_bpf(fd, want_port) < 0) {
			perror(PROG ": SO_ATTACH_FILTER");
			return 1;
		}
		for (unsigned int i = 0; i < 3; i++)
			if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP,
				       &groups[i], sizeof(groups[i])) < 0) {
				perror(PROG ": NETLINK_ADD_MEMBERSHIP");
				return 1;
			}
	}

	getrusage(RUSAGE_SELF, &r0);
	if (write_ready(ready) < 0) {
		perror(PROG ": ready file");
		return 1;
	}
	if (timeout >= 0)
		deadline = now_mono() + timeout;

	while (!stop) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int ms = -1, n;

		if (timeout >= 0) {
			double left = deadline - now_mono();

			if (left <= 0)
				break;
			ms = (int)(left * 1000) + 1;
		}
		double t0;

		n = poll(&pfd, 1, ms);
		if (n <= 0)
			continue;
		t0 = now_mono();
		wakeups++;
		/* drain the socket, then sleep again */
		for (;;) {
			n = recv(fd, rx, sizeof(rx), MSG_DONTWAIT);
			if (n < 0) {
				if (errno == ENOBUFS) {
					enobufs++;
					continue;
				}
				if (errno != EAGAIN && errno != EINTR) {
					perror(PROG ": recv");
					return 1;
				}
				break;
			}
			for (const struct nlmsghdr *nlh = (const struct nlmsghdr *)rx;
			     mnl_nlmsg_ok(nlh, n); nlh = mnl_nlmsg_next(nlh, &n))
				handle_msg(nlh);
		}
		busy += now_mono() - t0;
	}

	getrusage(RUSAGE_SELF, &r1);
	printf("mode=%s received=%lu wanted=%lu unwanted=%lu enobufs=%lu "
	       "wakeups=%lu busy=%.6f cpu_user=%.6f cpu_sys=%.6f", mode,
	       received, wanted, unwanted, enobufs, wakeups, busy, tv_s(r1.ru_utime) - tv_s(r0.ru_utime),
	       tv_s(r1.ru_stime) - tv_s(r0.ru_stime));
	if (work_us > 0)
		printf(" work_us=%ld worked=%.6f", work_us, worked);
	putchar('\n');
	mnl_socket_close(nl);
	return 0;
}
