// SPDX-License-Identifier: GPL-2.0
/*
 * Bind a conntrack event queue (or join the ctnetlink multicast groups)
 * and print one line per event:
 *
 *   new|update|destroy L4PROTO SPORT DPORT
 *
 * for nft_ctevent.sh.  With -x, only try the bind and print its result.
 */

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

struct options {
	int queue;		/* -1: multicast */
	uint32_t events;
	uint32_t flags;
	int rcvbuf;
	unsigned int timeout;
	unsigned int count;
	bool try_only;
};

static struct options opts = {
	.queue = -1,
	.events = CTNL_EVQ_EV_NEW | CTNL_EVQ_EV_UPDATE | CTNL_EVQ_EV_DESTROY,
	.timeout = 10,
};

static void help(const char *p)
{
	printf("Usage: %s [-q queue | -m] [-e new,update,destroy] [-R] [-b rcvbuf]\n"
	       "       [-t timeout] [-c count] [-x]\n", p);
}

static uint32_t parse_events(char *s)
{
	uint32_t ev = 0;
	char *tok;

	for (tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
		if (!strcmp(tok, "new"))
			ev |= CTNL_EVQ_EV_NEW;
		else if (!strcmp(tok, "update"))
			ev |= CTNL_EVQ_EV_UPDATE;
		else if (!strcmp(tok, "destroy"))
			ev |= CTNL_EVQ_EV_DESTROY;
		else
			return 0;
	}
	return ev;
}

static int bind_queue(struct mnl_socket *nl)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;
	uint32_t seq = time(NULL);
	int ret;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_EVQ_CFG;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;

	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;

	mnl_attr_put_u16(nlh, CTA_EVQ_NUM, htons(opts.queue));
	mnl_attr_put_u8(nlh, CTA_EVQ_CMD, CTNL_EVQ_CMD_BIND);
	mnl_attr_put_u32(nlh, CTA_EVQ_EVENTS, htonl(opts.events));
	if (opts.flags)
		mnl_attr_put_u32(nlh, CTA_EVQ_FLAGS, htonl(opts.flags));

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;

	ret = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (ret < 0)
		return -errno;
	ret = mnl_cb_run(buf, ret, seq, mnl_socket_get_portid(nl), NULL, NULL);
	return ret < 0 ? -errno : 0;
}

static int join_groups(struct mnl_socket *nl)
{
	static const struct { uint32_t ev; int grp; } map[] = {
		{ CTNL_EVQ_EV_NEW, NFNLGRP_CONNTRACK_NEW },
		{ CTNL_EVQ_EV_UPDATE, NFNLGRP_CONNTRACK_UPDATE },
		{ CTNL_EVQ_EV_DESTROY, NFNLGRP_CONNTRACK_DESTROY },
	};
	unsigned int i;

	for (i = 0; i < 3; i++) {
		int grp = map[i].grp;

		if (!(opts.events & map[i].ev))
			continue;
		if (mnl_socket_setsockopt(nl, NETLINK_ADD_MEMBERSHIP, &grp,
					  sizeof(grp)) < 0)
			return -errno;
	}
	return 0;
}

static int attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (type <= CTA_MAX)
		tb[type] = attr;
	return MNL_CB_OK;
}

static int proto_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (type <= CTA_PROTO_MAX)
		tb[type] = attr;
	return MNL_CB_OK;
}

static unsigned int events_seen;

static int event_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[CTA_MAX + 1] = {};
	const struct nlattr *tt[CTA_TUPLE_MAX + 1] = {};
	const struct nlattr *tp[CTA_PROTO_MAX + 1] = {};
	const char *type = "update";
	unsigned int sport = 0, dport = 0, proto = 0;

	if ((nlh->nlmsg_type & 0xff) == IPCTNL_MSG_CT_DELETE)
		type = "destroy";
	else if (nlh->nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL))
		type = "new";

	mnl_attr_parse(nlh, sizeof(struct nfgenmsg), attr_cb, tb);
	if (tb[CTA_TUPLE_ORIG])
		mnl_attr_parse_nested(tb[CTA_TUPLE_ORIG], proto_cb, tt);
	if (tt[CTA_TUPLE_PROTO])
		mnl_attr_parse_nested(tt[CTA_TUPLE_PROTO], proto_cb, tp);
	if (tp[CTA_PROTO_NUM])
		proto = mnl_attr_get_u8(tp[CTA_PROTO_NUM]);
	if (tp[CTA_PROTO_SRC_PORT])
		sport = ntohs(mnl_attr_get_u16(tp[CTA_PROTO_SRC_PORT]));
	if (tp[CTA_PROTO_DST_PORT])
		dport = ntohs(mnl_attr_get_u16(tp[CTA_PROTO_DST_PORT]));

	printf("%s %u %u %u\n", type, proto, sport, dport);
	fflush(stdout);

	if (opts.count && ++events_seen >= opts.count)
		return MNL_CB_STOP;
	return MNL_CB_OK;
}

int main(int argc, char *argv[])
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	time_t deadline;
	int c, ret;

	while ((c = getopt(argc, argv, "q:me:Rb:t:c:xh")) != -1) {
		switch (c) {
		case 'q':
			opts.queue = atoi(optarg);
			break;
		case 'm':
			opts.queue = -1;
			break;
		case 'e':
			opts.events = parse_events(optarg);
			if (!opts.events) {
				help(argv[0]);
				return 2;
			}
			break;
		case 'R':
			opts.flags |= CTNL_EVQ_F_RELIABLE;
			break;
		case 'b':
			opts.rcvbuf = atoi(optarg);
			break;
		case 't':
			opts.timeout = atoi(optarg);
			break;
		case 'c':
			opts.count = atoi(optarg);
			break;
		case 'x':
			opts.try_only = true;
			break;
		default:
			help(argv[0]);
			return 2;
		}
	}

	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("mnl_socket");
		return 1;
	}
	if (opts.rcvbuf &&
	    setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE,
		       &opts.rcvbuf, sizeof(opts.rcvbuf)) < 0) {
		perror("SO_RCVBUFFORCE");
		return 1;
	}

	ret = opts.queue < 0 ? join_groups(nl) : bind_queue(nl);
	if (opts.try_only) {
		printf("%s\n", ret ? strerror(-ret) : "ok");
		return 0;
	}
	if (ret) {
		fprintf(stderr, "bind: %s\n", strerror(-ret));
		return 1;
	}
	/* the test waits for this line before it makes traffic */
	fprintf(stderr, "listening\n");

	deadline = time(NULL) + opts.timeout;
	for (;;) {
		struct pollfd pfd = {
			.fd = mnl_socket_get_fd(nl),
			.events = POLLIN,
		};
		int left = deadline - time(NULL);

		if (left <= 0 || poll(&pfd, 1, left * 1000) <= 0)
			break;
		ret = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (ret < 0) {
			if (errno == ENOBUFS) {
				fprintf(stderr, "ENOBUFS\n");
				continue;
			}
			perror("recv");
			return 1;
		}
		ret = mnl_cb_run(buf, ret, 0, 0, event_cb, NULL);
		if (ret <= MNL_CB_STOP)
			break;
	}

	mnl_socket_close(nl);
	return 0;
}
