// SPDX-License-Identifier: GPL-2.0
/*
 * ctevq-bench-scale: the queue side of make bench-scale
 * (tests/bench/run-scale.sh).
 *
 *   listen [-s] [-b BYTES] [-r READY] [-n PREFIX,COUNT] FIRST LAST
 *       bind the queues FIRST..LAST, on one socket or, with -s, one socket
 *       per queue; with -n, queue FIRST in each of the netns
 *       /run/netns/PREFIX1..PREFIXCOUNT, one socket each, so that one
 *       process listens in all of them; then read every socket (epoll)
 *       until SIGTERM, counting the messages; prints
 *       queues=N sockets=S bind_seconds=T received=R new=A update=B
 *       destroy=C enobufs=E
 *   multicast [-b BYTES] [-r READY] N
 *       N sockets that join the ctnetlink multicast groups, read the same
 *       way; prints sockets=N received=R new=A update=B destroy=C enobufs=E
 *   sockets [-b BYTES] [-r READY] N
 *       the same sockets, joining no group and binding no queue (the
 *       memory baseline of listen -s); prints what multicast prints
 *   bindloop QUEUE N
 *       N times bind QUEUE and unbind it on one socket; prints
 *       pairs=N bind_us=X unbind_us=Y (mean per request, ack included)
 *
 * The listener does no work per message beyond reading it, so that what
 * grows with the number of queues is the kernel's and epoll's share.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <linux/netfilter/nfnetlink.h>

#include <libmnl/libmnl.h>
#include "ctevq_uapi.h"
#include "nlutil.h"
#include "benchutil.h"

#define PROG "ctevq-bench-scale"
#define NQUEUES 65536

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void __attribute__((noreturn)) usage(int rc)
{
	fprintf(rc ? stderr : stdout,
"Usage: " PROG " listen [-s] [-b BYTES] [-r READY] [-n PREFIX,COUNT] FIRST LAST\n"
"       " PROG " multicast [-b BYTES] [-r READY] N\n"
"       " PROG " sockets [-b BYTES] [-r READY] N\n"
"       " PROG " bindloop QUEUE N\n");
	exit(rc);
}

/* a decimal argument from 0 to MAX, or exit 2 */
static long parse_count(const char *s, long max)
{
	unsigned long long v;

	if (!parse_num(s, 10, 0, max, &v)) {
		fprintf(stderr, PROG ": bad number '%s' (0..%ld)\n", s, max);
		exit(2);
	}
	return v;
}

/* room for N sockets and a few more */
static void fd_room(long n)
{
	struct rlimit r = { .rlim_cur = n + 64, .rlim_max = n + 64 };
	struct rlimit cur;

	if (getrlimit(RLIMIT_NOFILE, &cur) == 0 && cur.rlim_cur >= r.rlim_cur)
		return;
	if (setrlimit(RLIMIT_NOFILE, &r) < 0) {
		perror(PROG ": RLIMIT_NOFILE");
		exit(1);
	}
}

static struct mnl_socket *open_sock(long rcvbuf)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
	int fd;

	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror(PROG ": netlink socket");
		exit(1);
	}
	fd = mnl_socket_get_fd(nl);
	if (rcvbuf > 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) < 0) {
		perror(PROG ": SO_RCVBUF");
		exit(1);
	}
	return nl;
}

static void signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

struct counts {
	unsigned long received, new, update, destroy, enobufs;
};

static void count_msgs(const char *buf, int n, struct counts *c)
{
	const struct nlmsghdr *nlh;

	for (nlh = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, n);
	     nlh = mnl_nlmsg_next(nlh, &n)) {
		if (nlh->nlmsg_type < NLMSG_MIN_TYPE ||
		    NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_CTNETLINK)
			continue;
		c->received++;
		if (NFNL_MSG_TYPE(nlh->nlmsg_type) == IPCTNL_MSG_CT_DELETE)
			c->destroy++;
		else if (nlh->nlmsg_flags & NLM_F_CREATE)
			c->new++;
		else
			c->update++;
	}
}

/* every message of the sockets in @ep, counted, until SIGTERM */
static void read_all(int ep, struct mnl_socket **socks, struct counts *c)
{
	static char rx[65536];
	struct epoll_event evs[64];

	while (!stop) {
		int n = epoll_wait(ep, evs, 64, -1);

		for (int i = 0; i < n; i++) {
			int fd = mnl_socket_get_fd(socks[evs[i].data.u32]);

			for (;;) {
				ssize_t r = recv(fd, rx, sizeof(rx), MSG_DONTWAIT);

				if (r < 0 && errno == ENOBUFS) {
					c->enobufs++;
					continue;
				}
				if (r <= 0)
					break;
				count_msgs(rx, r, c);
			}
		}
	}
}

/* @n sockets in a new epoll set */
static int open_socks(struct mnl_socket **socks, long n, long rcvbuf)
{
	int ep = epoll_create1(0);

	if (ep < 0) {
		perror(PROG ": epoll_create1");
		exit(1);
	}
	for (long i = 0; i < n; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = i };

		socks[i] = open_sock(rcvbuf);
		if (epoll_ctl(ep, EPOLL_CTL_ADD, mnl_socket_get_fd(socks[i]),
			      &ev) < 0) {
			perror(PROG ": epoll_ctl");
			exit(1);
		}
	}
	return ep;
}

struct opts {
	bool per_queue;		/* -s */
	const char *netns;	/* -n PREFIX,COUNT */
	long rcvbuf;		/* -b */
	const char *ready;	/* -r */
};

static void parse_opts(int argc, char **argv, const char *optstring,
		       struct opts *o)
{
	int opt;

	while ((opt = getopt(argc, argv, optstring)) != -1) {
		switch (opt) {
		case 's':
			o->per_queue = true;
			break;
		case 'b':
			o->rcvbuf = parse_count(optarg, 1L << 30);
			break;
		case 'r':
			o->ready = optarg;
			break;
		case 'n':
			o->netns = optarg;
			break;
		default:
			usage(2);
		}
	}
}

/* socket i of @socks in the netns /run/netns/PREFIX<i+1>; the caller's
 * netns again afterwards
 */
static void netns_socks(struct mnl_socket **socks, const char *prefix,
			long n, long rcvbuf, int ep)
{
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);

	if (self < 0) {
		perror(PROG ": /proc/self/ns/net");
		exit(1);
	}
	for (long i = 0; i < n; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = i };
		char path[4096];
		int fd;

		snprintf(path, sizeof(path), "/run/netns/%s%ld", prefix, i + 1);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
			fprintf(stderr, PROG ": %s: %s\n", path, strerror(errno));
			exit(1);
		}
		close(fd);
		socks[i] = open_sock(rcvbuf);
		if (epoll_ctl(ep, EPOLL_CTL_ADD, mnl_socket_get_fd(socks[i]),
			      &ev) < 0) {
			perror(PROG ": epoll_ctl");
			exit(1);
		}
	}
	if (setns(self, CLONE_NEWNET) < 0) {
		perror(PROG ": setns");
		exit(1);
	}
	close(self);
}

static int cmd_listen(int argc, char **argv)
{
	static struct mnl_socket *socks[NQUEUES];
	struct counts c = { 0 };
	struct opts o = { 0 };
	long first, last, nsocks;
	char *prefix = NULL;
	double t0, bind_s;
	int ep;

	parse_opts(argc, argv, "sb:r:n:", &o);
	if (argc - optind != 2)
		usage(2);
	first = parse_count(argv[optind], NQUEUES - 1);
	last = parse_count(argv[optind + 1], NQUEUES - 1);
	if (last < first)
		usage(2);
	nsocks = o.per_queue ? last - first + 1 : 1;
	if (o.netns) {
		const char *comma = strrchr(o.netns, ',');

		if (!comma || last != first)
			usage(2);
		nsocks = parse_count(comma + 1, NQUEUES);
		prefix = strndup(o.netns, comma - o.netns);
	}
	fd_room(nsocks);
	signals();

	t0 = now_mono();
	if (prefix) {
		ep = open_socks(socks, 0, 0);
		netns_socks(socks, prefix, nsocks, o.rcvbuf, ep);
	} else {
		ep = open_socks(socks, nsocks, o.rcvbuf);
	}
	for (long i = 0; i < (prefix ? nsocks : last - first + 1); i++) {
		long q = prefix ? first : first + i;
		int err = evq_cfg(socks[prefix || o.per_queue ? i : 0], q,
				  CTNL_EVQ_CMD_BIND, 0);

		if (err) {
			fprintf(stderr, PROG ": bind queue %ld: %s\n", q,
				nl_errname(err));
			return 1;
		}
	}
	bind_s = now_mono() - t0;
	if (write_ready(o.ready) < 0) {
		perror(PROG ": ready file");
		return 1;
	}

	read_all(ep, socks, &c);
	printf("queues=%ld sockets=%ld bind_seconds=%.3f received=%lu new=%lu update=%lu destroy=%lu enobufs=%lu\n",
	       prefix ? nsocks : last - first + 1, nsocks, bind_s, c.received, c.new, c.update,
	       c.destroy, c.enobufs);
	return 0;
}

static int cmd_multicast(int argc, char **argv, bool join)
{
	static const int groups[] = {
		NFNLGRP_CONNTRACK_NEW, NFNLGRP_CONNTRACK_UPDATE,
		NFNLGRP_CONNTRACK_DESTROY,
	};
	static struct mnl_socket *socks[NQUEUES];
	struct counts c = { 0 };
	struct opts o = { 0 };
	long n;
	int ep;

	parse_opts(argc, argv, "b:r:", &o);
	if (argc - optind != 1)
		usage(2);
	n = parse_count(argv[optind], NQUEUES);
	fd_room(n);
	signals();
	ep = open_socks(socks, n, o.rcvbuf);
	for (long i = 0; join && i < n; i++)
		for (unsigned int g = 0; g < 3; g++)
			if (setsockopt(mnl_socket_get_fd(socks[i]), SOL_NETLINK,
				       NETLINK_ADD_MEMBERSHIP, &groups[g],
				       sizeof(groups[g])) < 0) {
				perror(PROG ": NETLINK_ADD_MEMBERSHIP");
				return 1;
			}
	if (write_ready(o.ready) < 0) {
		perror(PROG ": ready file");
		return 1;
	}
	read_all(ep, socks, &c);
	printf("sockets=%ld received=%lu new=%lu update=%lu destroy=%lu enobufs=%lu\n",
	       n, c.received, c.new, c.update, c.destroy, c.enobufs);
	return 0;
}

static int cmd_bindloop(int argc, char **argv)
{
	struct mnl_socket *nl;
	double tb = 0, tu = 0, t;
	long q, n;

	if (argc != 3)
		usage(2);
	q = parse_count(argv[1], NQUEUES - 1);
	n = parse_count(argv[2], 100000000);
	if (!n)
		usage(2);
	nl = open_sock(0);
	for (long i = 0; i < n; i++) {
		int err;

		t = now_mono();
		err = evq_cfg(nl, q, CTNL_EVQ_CMD_BIND, 0);
		tb += now_mono() - t;
		if (!err) {
			t = now_mono();
			err = evq_cfg(nl, q, CTNL_EVQ_CMD_UNBIND, 0);
			tu += now_mono() - t;
		}
		if (err) {
			fprintf(stderr, PROG ": queue %ld, round %ld: %s\n", q,
				i, nl_errname(err));
			return 1;
		}
	}
	printf("pairs=%ld bind_us=%.2f unbind_us=%.2f\n", n, tb * 1e6 / n,
	       tu * 1e6 / n);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		usage(2);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
		usage(0);
	if (!strcmp(argv[1], "listen"))
		return cmd_listen(argc - 1, argv + 1);
	if (!strcmp(argv[1], "multicast"))
		return cmd_multicast(argc - 1, argv + 1, true);
	if (!strcmp(argv[1], "sockets"))
		return cmd_multicast(argc - 1, argv + 1, false);
	if (!strcmp(argv[1], "bindloop"))
		return cmd_bindloop(argc - 1, argv + 1);
	usage(2);
}
