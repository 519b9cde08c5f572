// SPDX-License-Identifier: GPL-2.0
/*
 * ctevq-listen: bind conntrack event queues (and/or join the ctnetlink
 * multicast groups) and print the conntrack events received.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
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
#include <sys/resource.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include "ctevq_uapi.h"
#include "nlutil.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

#define PROG "ctevq-listen"
#define RXBUF_SIZE (256 * 1024)

struct source {
	char name[16];
	struct mnl_socket *nl;
	int fd;
	int queue;		/* -1: multicast */
	uint32_t groups;	/* nl_groups of the message being printed */
	unsigned long events;
	unsigned long enobufs;
};

#define MAX_SOURCES 4096
#define MAX_TRIES 256

/* the command line */
static struct options {
	int queues[MAX_SOURCES];	/* --queue, one entry a queue */
	int nqueues;
	const char *tries[MAX_TRIES];	/* --try */
	int ntries;
	bool multicast, reliable, json, dump;
	bool have_events;		/* --events given: sent on binds */
	uint32_t events;
	unsigned long count, repeat;
	long slow, rcvbuf;
	double timeout, hold;
	const char *ready;
} opts = {
	.events = CTNL_EVQ_EV_ALL,
	.repeat = 1,
	.timeout = -1,
};

static struct source sources[MAX_SOURCES];
static int nsources;
static volatile sig_atomic_t stop;
static bool count_reached;
static unsigned long total_events;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: " PROG " [options]\n"
"  -q, --queue N|A-B    bind queue N, or A to B (repeatable; one socket per queue)\n"
"  -m, --multicast      join the ctnetlink multicast groups (per --events)\n"
"  -e, --events LIST    comma list of new,update,destroy (default all)\n"
"  -j, --json           JSON lines instead of text\n"
"  -c, --count N        exit after N events in total\n"
"  -t, --timeout S      exit after S seconds (float allowed)\n"
"  -b, --rcvbuf BYTES   SO_RCVBUFFORCE (fallback SO_RCVBUF) on every socket\n"
"  -s, --slow USEC      sleep USEC after each event\n"
"  -r, --ready FILE     create FILE once all binds succeeded\n"
"  -R, --reliable       CTNL_EVQ_F_RELIABLE on binds, NETLINK_BROADCAST_ERROR on multicast\n"
"      --try SPEC       control-only mode (repeatable): SPEC is\n"
"                       \"cmd=C,num=N,events=E,flags=F\" (any subset), \"bind:N\" or \"unbind:N\"\n"
"      --hold S         in --try mode, keep the socket open S seconds afterwards\n"
"      --repeat N       in --try mode, send the specs N times (0: until a signal),\n"
"                       printing only the results that differ from the first round\n"
"      --dump           print the netns's queues and counters (IPCTNL_MSG_CT_EVQ_GET),\n"
"                       as /proc/net/netfilter/nf_conntrack_evq does, and exit\n");
}

static void die_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, PROG ": ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry '" PROG " --help' for more information.\n");
	exit(2);
}

static void sleep_secs(double s)
{
	double end = now_mono() + s;

	while (!stop) {
		double left = end - now_mono();
		struct timespec ts;

		if (left <= 0)
			break;
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
	}
}

static struct mnl_socket *open_sock(int rcvbuf)
{
	struct mnl_socket *nl;
	int one = 1, fd;

	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl) {
		perror(PROG ": mnl_socket_open");
		exit(1);
	}
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror(PROG ": mnl_socket_bind");
		exit(1);
	}
	fd = mnl_socket_get_fd(nl);
	/* best effort: older kernels may lack these */
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	if (rcvbuf > 0) {
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
			       sizeof(rcvbuf)) < 0 &&
		    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
			       sizeof(rcvbuf)) < 0) {
			perror(PROG ": SO_RCVBUF");
			exit(1);
		}
	}
	return nl;
}

static void print_event(struct source *src, const struct nlmsghdr *nlh);

/* recv(), keeping the sender's groups in @src (if any): a unicast event
 * message has none.
 */
static ssize_t recv_from(int fd, void *buf, size_t len, int flags,
			 struct source *src)
{
	struct sockaddr_nl addr;
	socklen_t alen = sizeof(addr);
	ssize_t n;

	memset(&addr, 0, sizeof(addr));
	n = recvfrom(fd, buf, len, flags, (struct sockaddr *)&addr, &alen);
	if (n >= 0 && src)
		src->groups = addr.nl_groups;
	return n;
}

/* an event racing the bind's ack: it is delivered, so print it */
static void early_event(const struct nlmsghdr *nlh, uint32_t groups,
			void *data)
{
	struct source *src = data;

	src->groups = groups;
	if (nlh->nlmsg_type >= NLMSG_MIN_TYPE &&
	    NFNL_SUBSYS_ID(nlh->nlmsg_type) == NFNL_SUBSYS_CTNETLINK)
		print_event(src, nlh);
}

/*
 * Send a CFG request and wait for its ack.  Returns 0 or a positive errno;
 * EXT receives the extended ack message or "".  SRC (if not NULL) is the
 * queue being bound: the events that arrive before the ack are its.
 */
static int cfg_request(struct mnl_socket *nl, const struct evq_req *req,
		       char *ext, size_t extlen, struct source *src)
{
	uint32_t seq;
	int err;

	if (evq_req_send(nl, req, &seq) < 0) {
		perror(PROG ": sendto");
		exit(1);
	}
	for (;;) {
		err = evq_req_ack(nl, seq, ext, extlen,
				  src ? early_event : NULL, src);
		if (err >= 0)
			return err;
		if (errno == EINTR && !stop)
			continue;
		if (errno == EINTR)	/* SIGINT/SIGTERM */
			return EINTR;
		if (errno == ENOBUFS && src) {
			/* events may already arrive */
			src->enobufs++;
			fprintf(stderr, "%s: ENOBUFS: events lost\n",
				src->name);
			continue;
		}
		perror(PROG ": recvfrom");
		exit(1);
	}
}

/* ---- queue statistics (IPCTNL_MSG_CT_EVQ_GET dump) ---- */

static int evq_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (type > 0 && type <= CTA_EVQ_MAX)
		tb[type] = attr;
	return MNL_CB_OK;
}

static int evq_stats_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (type > 0 && type <= CTA_EVQ_STATS_MAX &&
	    mnl_attr_validate(attr, MNL_TYPE_U64) == 0)
		tb[type] = attr;
	return MNL_CB_OK;
}

static uint64_t be64_attr(const struct nlattr *a)
{
	return a ? be64toh(mnl_attr_get_u64(a)) : 0;
}

static uint32_t be32_attr(const struct nlattr *a)
{
	return a && mnl_attr_get_payload_len(a) >= 4 ?
	       ntohl(mnl_attr_get_u32(a)) : 0;
}

static int dump_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[CTA_EVQ_MAX + 1] = {};
	const struct nlattr *st[CTA_EVQ_STATS_MAX + 1] = {};

	(void)data;
	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), evq_attr_cb, tb) < 0 ||
	    !tb[CTA_EVQ_NUM] || mnl_attr_get_payload_len(tb[CTA_EVQ_NUM]) < 2) {
		fprintf(stderr, PROG ": malformed queue message\n");
		return MNL_CB_ERROR;
	}
	if (tb[CTA_EVQ_STATS])
		mnl_attr_parse_nested(tb[CTA_EVQ_STATS], evq_stats_cb, st);
	printf("%5u %10" PRIu32 " 0x%" PRIx32 " 0x%" PRIx32 " %" PRIu64 " %" PRIu64
	       " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
	       ntohs(mnl_attr_get_u16(tb[CTA_EVQ_NUM])),
	       be32_attr(tb[CTA_EVQ_PORTID]), be32_attr(tb[CTA_EVQ_EVENTS]),
	       be32_attr(tb[CTA_EVQ_FLAGS]),
	       be64_attr(st[CTA_EVQ_STATS_DELIVERED]),
	       be64_attr(st[CTA_EVQ_STATS_UNBOUND]),
	       be64_attr(st[CTA_EVQ_STATS_LOST]),
	       be64_attr(st[CTA_EVQ_STATS_OVERFLOW]),
	       be64_attr(st[CTA_EVQ_STATS_NOEXT]));
	return MNL_CB_OK;
}

/* Same lines as /proc/net/netfilter/nf_conntrack_evq. */
static int dump_queues(struct mnl_socket *nl)
{
	static char rx[RXBUF_SIZE];
	char buf[MNL_SOCKET_BUFFER_SIZE];
	uint32_t seq = (uint32_t)time(NULL);
	uint32_t portid = mnl_socket_get_portid(nl);
	struct nlmsghdr *nlh;
	int n, ret;

	nlh = nfnl_msg_put(buf, (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_EVQ_GET,
			   NLM_F_REQUEST | NLM_F_DUMP, seq, AF_UNSPEC, 0);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		perror(PROG ": sendto");
		return 1;
	}
	do {
		n = mnl_socket_recvfrom(nl, rx, sizeof(rx));
		if (n < 0) {
			perror(PROG ": dump");
			return 1;
		}
		ret = mnl_cb_run(rx, n, seq, portid, dump_cb, NULL);
	} while (ret > MNL_CB_STOP);
	if (ret < 0) {
		fprintf(stderr, PROG ": dump: %s (%s)\n", strerror(errno),
			nl_errname(errno));
		return 1;
	}
	mnl_socket_close(nl);
	return 0;
}

/* ---- event printing ---- */

static void print_event(struct source *src, const struct nlmsghdr *nlh)
{
	uint8_t mtype = NFNL_MSG_TYPE(nlh->nlmsg_type);
	struct nf_conntrack *ct;
	enum nf_conntrack_msg_type t;
	const char *tname;
	uint32_t id = 0;

	if (mtype == IPCTNL_MSG_CT_NEW) {
		if (nlh->nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL)) {
			t = NFCT_T_NEW;
			tname = "new";
		} else {
			t = NFCT_T_UPDATE;
			tname = "update";
		}
	} else if (mtype == IPCTNL_MSG_CT_DELETE) {
		t = NFCT_T_DESTROY;
		tname = "destroy";
	} else {
		return;
	}

	ct = nfct_new();
	if (!ct) {
		perror(PROG ": nfct_new");
		exit(1);
	}
	if (nfct_nlmsg_parse(nlh, ct) < 0) {
		fprintf(stderr, "%s: cannot parse event message\n", src->name);
		nfct_destroy(ct);
		return;
	}
	if (nfct_attr_is_set(ct, ATTR_ID) > 0)
		id = nfct_get_attr_u32(ct, ATTR_ID);

	if (!opts.json) {
		char buf[4096];

		nfct_snprintf(buf, sizeof(buf), ct, t, NFCT_O_DEFAULT,
			      NFCT_OF_SHOW_LAYER3);
		printf("%s %s id=%" PRIu32 "\n", src->name, buf, id);
	} else {
		char s[INET6_ADDRSTRLEN] = "", d[INET6_ADDRSTRLEN] = "";
		uint8_t l3 = nfct_get_attr_u8(ct, ATTR_L3PROTO);
		uint8_t l4 = nfct_get_attr_u8(ct, ATTR_L4PROTO);
		unsigned int sport = 0, dport = 0;
		uint32_t status = 0;

		if (l3 == AF_INET) {
			if (nfct_attr_is_set(ct, ATTR_IPV4_SRC) > 0)
				inet_ntop(AF_INET, nfct_get_attr(ct, ATTR_IPV4_SRC), s, sizeof(s));
			if (nfct_attr_is_set(ct, ATTR_IPV4_DST) > 0)
				inet_ntop(AF_INET, nfct_get_attr(ct, ATTR_IPV4_DST), d, sizeof(d));
		} else if (l3 == AF_INET6) {
			if (nfct_attr_is_set(ct, ATTR_IPV6_SRC) > 0)
				inet_ntop(AF_INET6, nfct_get_attr(ct, ATTR_IPV6_SRC), s, sizeof(s));
			if (nfct_attr_is_set(ct, ATTR_IPV6_DST) > 0)
				inet_ntop(AF_INET6, nfct_get_attr(ct, ATTR_IPV6_DST), d, sizeof(d));
		}
		if (l4 == IPPROTO_TCP || l4 == IPPROTO_UDP) {
			if (nfct_attr_is_set(ct, ATTR_PORT_SRC) > 0)
				sport = ntohs(nfct_get_attr_u16(ct, ATTR_PORT_SRC));
			if (nfct_attr_is_set(ct, ATTR_PORT_DST) > 0)
				dport = ntohs(nfct_get_attr_u16(ct, ATTR_PORT_DST));
		}
		if (nfct_attr_is_set(ct, ATTR_STATUS) > 0)
			status = nfct_get_attr_u32(ct, ATTR_STATUS);

		printf("{\"src\":\"%s\",\"type\":\"%s\",\"nlmsg_type\":%u,"
		       "\"nlmsg_flags\":%u,\"seq\":%" PRIu32 ",\"pid\":%" PRIu32
		       ",\"id\":%" PRIu32 ",\"l3\":\"%s\",\"proto\":%u,"
		       "\"orig_src\":\"%s\",\"orig_dst\":\"%s\",\"sport\":%u,"
		       "\"dport\":%u,\"status\":%" PRIu32 ",\"groups\":%" PRIu32
		       ",\"len\":%" PRIu32,
		       src->name, tname, nlh->nlmsg_type, nlh->nlmsg_flags,
		       nlh->nlmsg_seq, nlh->nlmsg_pid, id,
		       l3 == AF_INET ? "ipv4" : l3 == AF_INET6 ? "ipv6" : "unknown",
		       l4, s, d, sport, dport, status, src->groups,
		       nlh->nlmsg_len);
		if (l4 == IPPROTO_TCP && nfct_attr_is_set(ct, ATTR_TCP_STATE) > 0)
			printf(",\"tcp_state\":\"%s\"",
			       tcp_state_name(nfct_get_attr_u8(ct, ATTR_TCP_STATE)));
		printf("}\n");
	}
	nfct_destroy(ct);

	src->events++;
	total_events++;
	if (opts.count && total_events >= opts.count)
		count_reached = true;
	if (opts.slow > 0 && !stop && !count_reached)
		usleep(opts.slow);
}

/* Returns false once the socket has nothing more to read. */
static bool handle_readable(struct source *src)
{
	static char rx[RXBUF_SIZE];
	const struct nlmsghdr *nlh;
	int n;

	n = recv_from(src->fd, rx, sizeof(rx), MSG_DONTWAIT, src);
	if (n < 0) {
		if (errno == ENOBUFS) {
			src->enobufs++;
			fprintf(stderr, "%s: ENOBUFS: events lost\n", src->name);
			return true;
		}
		if (errno == EAGAIN || errno == EINTR)
			return false;
		fprintf(stderr, PROG ": %s: recv: %s\n", src->name,
			strerror(errno));
		exit(1);
	}
	for (nlh = (const struct nlmsghdr *)rx; mnl_nlmsg_ok(nlh, n) && !count_reached;
	     nlh = mnl_nlmsg_next(nlh, &n)) {
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

			if (e->error)
				fprintf(stderr, "%s: error message: %s\n",
					src->name, strerror(-e->error));
			continue;
		}
		if (nlh->nlmsg_type < NLMSG_MIN_TYPE ||
		    NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_CTNETLINK)
			continue;
		print_event(src, nlh);
	}
	return true;
}

/*
 * A signal stops the wait, not the reading: what the kernel already queued
 * to our sockets is printed before exit, so that SIGTERM loses nothing that
 * was delivered.  Bounded in time in case events keep arriving.
 */
static void drain(void)
{
	double end = now_mono() + 2;
	bool more = true;

	while (more && !count_reached && now_mono() < end) {
		more = false;
		for (int i = 0; i < nsources && !count_reached; i++)
			if (handle_readable(&sources[i]))
				more = true;
	}
}

/* ---- option parsing ---- */

static unsigned long parse_ulong(const char *s, const char *what,
				 unsigned long max)
{
	unsigned long long v;

	if (!*s || *s == '-')
		die_usage("invalid %s", what);
	if (!parse_num(s, 0, 0, max, &v)) {
		fprintf(stderr, PROG ": invalid %s: '%s'\n", what, s);
		exit(2);
	}
	return v;
}

static uint32_t parse_events(const char *arg)
{
	char *copy = strdup(arg), *tok, *save = NULL;
	uint32_t m = 0;

	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "new"))
			m |= CTNL_EVQ_EV_NEW;
		else if (!strcmp(tok, "update"))
			m |= CTNL_EVQ_EV_UPDATE;
		else if (!strcmp(tok, "destroy"))
			m |= CTNL_EVQ_EV_DESTROY;
		else if (!strcmp(tok, "all"))
			m |= CTNL_EVQ_EV_ALL;
		else
			die_usage("unknown event name '%s' (use new,update,destroy)", tok);
	}
	free(copy);
	if (!m)
		die_usage("empty event list '%s'", arg);
	return m;
}

/* the bind request of queue NUM, with --events and --reliable */
static struct evq_req bind_req(uint16_t num)
{
	return (struct evq_req){
		.has_num = true, .num = num,
		.has_cmd = true, .cmd = CTNL_EVQ_CMD_BIND,
		.has_events = opts.have_events, .events = opts.events,
		.has_flags = opts.reliable,
		.flags = opts.reliable ? CTNL_EVQ_F_RELIABLE : 0,
	};
}

static void parse_try_spec(const char *spec, struct evq_req *r)
{
	char *copy, *tok, *save = NULL;

	memset(r, 0, sizeof(*r));
	if (!strncmp(spec, "bind:", 5)) {
		*r = bind_req(parse_ulong(spec + 5, "queue number", 65535));
		return;
	}
	if (!strncmp(spec, "unbind:", 7)) {
		r->has_cmd = true;
		r->cmd = CTNL_EVQ_CMD_UNBIND;
		r->has_num = true;
		r->num = parse_ulong(spec + 7, "queue number", 65535);
		return;
	}
	copy = strdup(spec);
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');

		if (!eq)
			die_usage("bad --try key '%s' (expected key=value)", tok);
		*eq++ = '\0';
		if (!strcmp(tok, "cmd")) {
			r->has_cmd = true;
			r->cmd = parse_ulong(eq, "cmd value", 255);
		} else if (!strcmp(tok, "num")) {
			r->has_num = true;
			r->num = parse_ulong(eq, "num value", 65535);
		} else if (!strcmp(tok, "events")) {
			r->has_events = true;
			r->events = parse_ulong(eq, "events value", UINT32_MAX);
		} else if (!strcmp(tok, "flags")) {
			r->has_flags = true;
			r->flags = parse_ulong(eq, "flags value", UINT32_MAX);
		} else {
			die_usage("unknown --try key '%s' (cmd num events flags)", tok);
		}
	}
	free(copy);
}

static double parse_seconds(const char *s, const char *what)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !*s || !(v >= 0) || isinf(v)) {
		fprintf(stderr, PROG ": invalid %s: '%s'\n", what, s);
		exit(2);
	}
	return v;
}

/* --queue N or A-B */
static void parse_queues(char *arg)
{
	char *dash = strchr(arg, '-');
	unsigned long lo, hi;

	if (dash)
		*dash = '\0';
	lo = parse_ulong(arg, "queue number (0..65535)", 65535);
	hi = dash ? parse_ulong(dash + 1, "queue number (0..65535)", 65535) : lo;
	if (hi < lo)
		die_usage("empty queue range at '%s'", arg);
	for (; lo <= hi; lo++) {
		if (opts.nqueues >= MAX_SOURCES - 1)
			die_usage("too many queues%s", "");
		opts.queues[opts.nqueues++] = lo;
	}
}

/* Fills opts; exits on --help (0) or a usage error (2). */
static void parse_options(int argc, char **argv)
{
	enum { OPT_TRY = 256, OPT_HOLD, OPT_DUMP, OPT_REPEAT };
	static const struct option longopts[] = {
		{ "queue", required_argument, NULL, 'q' },
		{ "multicast", no_argument, NULL, 'm' },
		{ "events", required_argument, NULL, 'e' },
		{ "json", no_argument, NULL, 'j' },
		{ "count", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ "rcvbuf", required_argument, NULL, 'b' },
		{ "slow", required_argument, NULL, 's' },
		{ "ready", required_argument, NULL, 'r' },
		{ "reliable", no_argument, NULL, 'R' },
		{ "try", required_argument, NULL, OPT_TRY },
		{ "hold", required_argument, NULL, OPT_HOLD },
		{ "dump", no_argument, NULL, OPT_DUMP },
		{ "repeat", required_argument, NULL, OPT_REPEAT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "q:me:jc:t:b:s:r:Rh", longopts,
				  NULL)) != -1) {
		switch (opt) {
		case 'q':
			parse_queues(optarg);
			break;
		case 'm':
			opts.multicast = true;
			break;
		case 'e':
			opts.events = parse_events(optarg);
			opts.have_events = true;
			break;
		case 'j':
			opts.json = true;
			break;
		case 'c':
			opts.count = parse_ulong(optarg, "count", ULONG_MAX);
			break;
		case 't':
			opts.timeout = parse_seconds(optarg, "timeout");
			break;
		case 'b':
			opts.rcvbuf = parse_ulong(optarg, "rcvbuf", INT32_MAX);
			break;
		case 's':
			opts.slow = parse_ulong(optarg, "slow usec", LONG_MAX);
			break;
		case 'r':
			opts.ready = optarg;
			break;
		case 'R':
			opts.reliable = true;
			break;
		case OPT_TRY:
			if (opts.ntries >= MAX_TRIES)
				die_usage("too many --try specs%s", "");
			opts.tries[opts.ntries++] = optarg;
			break;
		case OPT_HOLD:
			opts.hold = parse_seconds(optarg, "hold");
			break;
		case OPT_DUMP:
			opts.dump = true;
			break;
		case OPT_REPEAT:
			opts.repeat = parse_ulong(optarg, "repeat count",
						  ULONG_MAX);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind < argc)
		die_usage("unexpected argument '%s'", argv[optind]);
}

/* ---- the modes ---- */

/* --dump: the queues and their counters */
static int run_dump(void)
{
	if (opts.ntries || opts.nqueues || opts.multicast)
		die_usage("--dump cannot be combined with other modes%s", "");
	return dump_queues(open_sock(opts.rcvbuf));
}

/*
 * --try: send each spec, print each result.  Over --repeat rounds only the
 * results that differ from the first round's are printed, so that a race
 * shows as a few lines among thousands of requests.
 */
static int run_try(void)
{
	static int first[MAX_TRIES];
	struct evq_req reqs[MAX_TRIES];
	struct mnl_socket *nl;
	unsigned long round;

	if (opts.nqueues || opts.multicast)
		die_usage("--try cannot be combined with --queue/--multicast%s", "");
	/* validate all specs before sending anything */
	for (int i = 0; i < opts.ntries; i++)
		parse_try_spec(opts.tries[i], &reqs[i]);

	nl = open_sock(opts.rcvbuf);
	for (round = 0; !stop && (!opts.repeat || round < opts.repeat);
	     round++) {
		for (int i = 0; i < opts.ntries; i++) {
			const char *spec = opts.tries[i];
			char ext[512];
			int err = cfg_request(nl, &reqs[i], ext, sizeof(ext),
					      NULL);

			if (err == EINTR && stop)
				break;
			if (round == 0)
				first[i] = err;
			else if (err == first[i])
				continue;
			if (!err)
				printf("try %s: OK\n", spec);
			else if (ext[0])
				printf("try %s: %s (%s)\n", spec,
				       nl_errname(err), ext);
			else
				printf("try %s: %s\n", spec, nl_errname(err));
		}
	}
	/* the results are on stdout: a ready file not made is no error */
	write_ready(opts.ready);
	if (opts.repeat != 1)
		fprintf(stderr, "rounds %lu\n", round);
	if (opts.hold > 0)
		sleep_secs(opts.hold);
	mnl_socket_close(nl);
	return 0;
}

/* one socket bound to each --queue; returns 0 or 1 (printed why) */
static int bind_queues(void)
{
	for (int i = 0; i < opts.nqueues; i++) {
		struct source *src = &sources[nsources++];
		struct evq_req req = bind_req(opts.queues[i]);
		char ext[512];
		int err;

		snprintf(src->name, sizeof(src->name), "q%d", opts.queues[i]);
		src->queue = opts.queues[i];
		src->nl = open_sock(opts.rcvbuf);
		src->fd = mnl_socket_get_fd(src->nl);
		err = cfg_request(src->nl, &req, ext, sizeof(ext), src);
		if (err) {
			fprintf(stderr, PROG ": bind queue %d: %s (%s)%s%s\n",
				opts.queues[i], strerror(err), nl_errname(err),
				ext[0] ? ": " : "", ext);
			return 1;
		}
	}
	return 0;
}

/* --multicast: one socket in the groups of --events; returns 0 or 1 */
static int join_multicast(void)
{
	static const struct { uint32_t ev; int grp; } map[] = {
		{ CTNL_EVQ_EV_NEW, NFNLGRP_CONNTRACK_NEW },
		{ CTNL_EVQ_EV_UPDATE, NFNLGRP_CONNTRACK_UPDATE },
		{ CTNL_EVQ_EV_DESTROY, NFNLGRP_CONNTRACK_DESTROY },
	};
	struct source *src = &sources[nsources++];

	snprintf(src->name, sizeof(src->name), "mc");
	src->queue = -1;
	src->nl = open_sock(opts.rcvbuf);
	src->fd = mnl_socket_get_fd(src->nl);
	if (opts.reliable) {
		int one = 1;

		if (setsockopt(src->fd, SOL_NETLINK, NETLINK_BROADCAST_ERROR,
			       &one, sizeof(one)) < 0) {
			perror(PROG ": NETLINK_BROADCAST_ERROR");
			return 1;
		}
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(map); i++) {
		int grp = map[i].grp;

		if (!(opts.events & map[i].ev))
			continue;
		if (setsockopt(src->fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP,
			       &grp, sizeof(grp)) < 0) {
			fprintf(stderr, PROG ": join multicast group %d: %s (%s)\n",
				grp, strerror(errno), nl_errname(errno));
			return 1;
		}
	}
	return 0;
}

/* print the events of every source until --count, --timeout or a signal */
static int event_loop(void)
{
	struct pollfd pfd[MAX_SOURCES];
	double deadline = opts.timeout >= 0 ? now_mono() + opts.timeout : 0;

	for (int i = 0; i < nsources; i++) {
		pfd[i].fd = sources[i].fd;
		pfd[i].events = POLLIN;
	}
	while (!stop && !count_reached) {
		int ms = -1, r;

		if (opts.timeout >= 0) {
			double left = deadline - now_mono();

			if (left <= 0)
				break;
			ms = (int)ceil(left * 1000);
		}
		r = poll(pfd, nsources, ms);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			perror(PROG ": poll");
			return 1;
		}
		for (int i = 0; i < nsources && !count_reached; i++) {
			if (pfd[i].revents & (POLLIN | POLLERR))
				handle_readable(&sources[i]);
		}
	}
	if (stop)
		drain();
	return 0;
}

static void print_stats(void)
{
	for (int i = 0; i < nsources; i++)
		fprintf(stderr, "%s: events=%lu enobufs=%lu\n", sources[i].name,
			sources[i].events, sources[i].enobufs);
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	struct rlimit rl;

	parse_options(argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (opts.dump)
		return run_dump();

	/* one socket per queue: a thousand queues need as many files */
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}

	if (opts.ntries)
		return run_try();

	if (!opts.nqueues && !opts.multicast)
		die_usage("nothing to do: give --queue N and/or --multicast%s", "");
	if (bind_queues() || (opts.multicast && join_multicast()))
		return 1;
	if (write_ready(opts.ready) < 0) {
		fprintf(stderr, PROG ": cannot create %s: %s\n", opts.ready,
			strerror(errno));
		return 1;
	}
	if (event_loop())
		return 1;

	print_stats();
	for (int i = 0; i < nsources; i++)
		mnl_socket_close(sources[i].nl);
	return 0;
}
