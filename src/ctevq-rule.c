// SPDX-License-Identifier: GPL-2.0
/*
 * ctevq-rule: a tiny raw-netlink nftables rule installer, so that the ct
 * event queue tests do not depend on nft(8) knowing the "ctevent"
 * expression.
 *
 * Commands (arguments separated by ";" tokens, or -f FILE one per line):
 *   add table FAMILY NAME
 *   delete table FAMILY NAME
 *   add chain FAMILY TABLE CHAIN HOOK PRIO [dev IFNAME]
 *   flush chain FAMILY TABLE CHAIN
 *   add rule FAMILY TABLE CHAIN EXPR...
 *   list counters FAMILY TABLE
 *   commit                  (ends a batch: the next command starts another)
 *
 * -n N runs the commands N times and prints the mean time of each batch
 * (sent to all acks in), for make bench-scale.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include "ctevq_uapi.h"
#include "nlutil.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

#define PROG "ctevq-rule"
#define BATCH_SIZE (8 * 1024 * 1024)
#define CMD_RESERVE (512 * 1024)

struct cmd {
	int line;
	int ntok;
	char **tok;
};

static struct cmd *cmds;
static int ncmds;

static struct mnl_socket *nl;
static uint32_t seq_base;

/* batch state */
static char *batch;
static size_t batch_len;
static int *seq_line;		/* line of message with seq seq_base + i */
static int nmsgs;
static int first_line;

static bool dry_run;		/* syntax check pass: build, never send */
static int failed;

/* -n: the time of each batch of a round, summed over the rounds */
#define MAX_TIMED 64
static double batch_s[MAX_TIMED];
static int batch_idx;

static void usage(FILE *f)
{
	fprintf(f,
"Usage: " PROG " [-f FILE] [COMMAND [';' COMMAND]...]\n"
"Commands:\n"
"  add table FAMILY NAME\n"
"  delete table FAMILY NAME\n"
"  add chain FAMILY TABLE CHAIN HOOK PRIO [dev IFNAME]\n"
"  flush chain FAMILY TABLE CHAIN\n"
"  add rule FAMILY TABLE CHAIN EXPR...\n"
"  list counters FAMILY TABLE\n"
"  commit                  (ends a batch)\n"
"Options: -n N  run the commands N times, print each batch's mean time\n"
"FAMILY: ip ip6 inet bridge netdev arp\n"
"HOOK: prerouting input forward output postrouting ingress egress\n"
"EXPR: ct state S[,S...] | ct event set E[,E...] | ct mark set N |\n"
"      l4proto P | dport N |\n"
"      sport N | ctevent Q [bypass] | ctevent A-B [bypass] |\n"
"      ctevent to mark [bypass] | ctevent raw num=X,total=Y,flags=Z,sreg=R |\n"
"      queue N | counter | drop |\n"
"      accept | notrack\n");
}

static void __attribute__((noreturn, format(printf, 2, 3)))
syntax_error(const struct cmd *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": line %d: ", c->line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(2);
}

static int parse_family(const struct cmd *c, const char *s)
{
	static const struct { const char *n; int f; } fams[] = {
		{ "ip", NFPROTO_IPV4 }, { "ip6", NFPROTO_IPV6 },
		{ "inet", NFPROTO_INET }, { "bridge", NFPROTO_BRIDGE },
		{ "netdev", NFPROTO_NETDEV }, { "arp", NFPROTO_ARP },
	};

	for (unsigned int i = 0; i < sizeof(fams) / sizeof(fams[0]); i++)
		if (!strcmp(s, fams[i].n))
			return fams[i].f;
	syntax_error(c, "unknown family '%s'", s);
}

static uint32_t parse_hook(const struct cmd *c, int family, const char *s)
{
	if (family == NFPROTO_NETDEV) {
		if (!strcmp(s, "ingress"))
			return NF_NETDEV_INGRESS;
		if (!strcmp(s, "egress"))
			return 1; /* NF_NETDEV_EGRESS */
	} else if (family == NFPROTO_ARP) {
		if (!strcmp(s, "input"))
			return 0; /* NF_ARP_IN */
		if (!strcmp(s, "output"))
			return 1; /* NF_ARP_OUT */
		if (!strcmp(s, "forward"))
			return 2; /* NF_ARP_FORWARD */
	} else {
		if (!strcmp(s, "prerouting"))
			return NF_INET_PRE_ROUTING;
		if (!strcmp(s, "input"))
			return NF_INET_LOCAL_IN;
		if (!strcmp(s, "forward"))
			return NF_INET_FORWARD;
		if (!strcmp(s, "output"))
			return NF_INET_LOCAL_OUT;
		if (!strcmp(s, "postrouting"))
			return NF_INET_POST_ROUTING;
		if (!strcmp(s, "ingress"))
			return 5; /* NF_INET_INGRESS */
	}
	syntax_error(c, "unknown hook '%s' for this family", s);
}

/* ---- message building ---- */

static struct nlmsghdr *put_msg(int line, uint16_t type, uint16_t flags,
				int family)
{
	struct nlmsghdr *nlh;

	nlh = nfnl_msg_put(batch + batch_len, (NFNL_SUBSYS_NFTABLES << 8) | type,
			   NLM_F_REQUEST | NLM_F_ACK | flags, seq_base + nmsgs,
			   family, 0);
	seq_line[nmsgs++] = line;
	return nlh;
}

static void end_msg(struct nlmsghdr *nlh)
{
	batch_len += nlh->nlmsg_len;
}

static void put_batch_marker(uint16_t type, int line)
{
	struct nlmsghdr *nlh;

	nlh = nfnl_msg_put(batch + batch_len, type, NLM_F_REQUEST,
			   seq_base + nmsgs, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
	seq_line[nmsgs++] = line;
	batch_len += nlh->nlmsg_len;
}

static struct nlattr *expr_begin(struct nlmsghdr *nlh, const char *name)
{
	struct nlattr *elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);

	mnl_attr_put_strz(nlh, NFTA_EXPR_NAME, name);
	mnl_attr_nest_start(nlh, NFTA_EXPR_DATA);
	return elem;
}

static void expr_end(struct nlmsghdr *nlh, struct nlattr *elem)
{
	/* close NFTA_EXPR_DATA (right after the name) and the list element */
	struct nlattr *name = (struct nlattr *)((char *)elem + MNL_ATTR_HDRLEN);
	struct nlattr *data = mnl_attr_next(name);

	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, elem);
}

static void put_data_value(struct nlmsghdr *nlh, uint16_t type,
			   const void *val, size_t len)
{
	struct nlattr *n = mnl_attr_nest_start(nlh, type);

	mnl_attr_put(nlh, NFTA_DATA_VALUE, len, val);
	mnl_attr_nest_end(nlh, n);
}

static void expr_cmp(struct nlmsghdr *nlh, uint32_t op, const void *val,
		     size_t len)
{
	struct nlattr *e = expr_begin(nlh, "cmp");

	mnl_attr_put_u32(nlh, NFTA_CMP_SREG, htonl(NFT_REG_1));
	mnl_attr_put_u32(nlh, NFTA_CMP_OP, htonl(op));
	put_data_value(nlh, NFTA_CMP_DATA, val, len);
	expr_end(nlh, e);
}

static void expr_verdict(struct nlmsghdr *nlh, int verdict)
{
	struct nlattr *e = expr_begin(nlh, "immediate");
	struct nlattr *d, *v;

	mnl_attr_put_u32(nlh, NFTA_IMMEDIATE_DREG, htonl(NFT_REG_VERDICT));
	d = mnl_attr_nest_start(nlh, NFTA_IMMEDIATE_DATA);
	v = mnl_attr_nest_start(nlh, NFTA_DATA_VERDICT);
	mnl_attr_put_u32(nlh, NFTA_VERDICT_CODE, htonl(verdict));
	mnl_attr_nest_end(nlh, v);
	mnl_attr_nest_end(nlh, d);
	expr_end(nlh, e);
}

/* ct event set: bits of enum ip_conntrack_events */
static uint32_t parse_ct_events(const struct cmd *c, const char *arg)
{
	static const struct { const char *name; int bit; } names[] = {
		{ "new", IPCT_NEW }, { "related", IPCT_RELATED },
		{ "destroy", IPCT_DESTROY }, { "reply", IPCT_REPLY },
		{ "assured", IPCT_ASSURED }, { "protoinfo", IPCT_PROTOINFO },
		{ "helper", IPCT_HELPER }, { "mark", IPCT_MARK },
		{ "seqadj", IPCT_SEQADJ }, { "secmark", IPCT_SECMARK },
		{ "label", IPCT_LABEL },
	};
	char *copy = strdup(arg), *tok, *save = NULL;
	uint32_t mask = 0;

	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		unsigned int n;

		for (n = 0; n < sizeof(names) / sizeof(names[0]); n++)
			if (!strcmp(tok, names[n].name))
				break;
		if (n == sizeof(names) / sizeof(names[0]))
			syntax_error(c, "unknown ct event '%s'", tok);
		mask |= 1U << names[n].bit;
	}
	free(copy);
	return mask;
}

static uint32_t parse_ct_states(const struct cmd *c, const char *arg)
{
	char *copy = strdup(arg), *tok, *save = NULL;
	uint32_t mask = 0;

	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "new"))
			mask |= NF_CT_STATE_BIT(IP_CT_NEW);
		else if (!strcmp(tok, "established"))
			mask |= NF_CT_STATE_BIT(IP_CT_ESTABLISHED);
		else if (!strcmp(tok, "related"))
			mask |= NF_CT_STATE_BIT(IP_CT_RELATED);
		else if (!strcmp(tok, "untracked"))
			mask |= NF_CT_STATE_UNTRACKED_BIT;
		else
			syntax_error(c, "unknown ct state '%s'", tok);
	}
	free(copy);
	if (!mask)
		syntax_error(c, "empty ct state list");
	return mask;
}

static int parse_l4proto(const struct cmd *c, const char *s)
{
	unsigned long long v;

	if (!strcmp(s, "tcp"))
		return IPPROTO_TCP;
	if (!strcmp(s, "udp"))
		return IPPROTO_UDP;
	if (!strcmp(s, "icmp"))
		return IPPROTO_ICMP;
	if (!strcmp(s, "icmpv6"))
		return IPPROTO_ICMPV6;
	if (!strcmp(s, "sctp"))
		return IPPROTO_SCTP;
	if (parse_num(s, 0, 0, 255, &v))
		return v;
	syntax_error(c, "unknown l4proto '%s'", s);
}

static uint16_t parse_u16(const struct cmd *c, const char *s, const char *what)
{
	unsigned long long v;

	if (!parse_num(s, 0, 0, 65535, &v))
		syntax_error(c, "invalid %s '%s' (0..65535)", what, s);
	return v;
}

/* the expression at token I has at least N arguments after it */
static void need(const struct cmd *c, int i, int n)
{
	if (i + n >= c->ntok)
		syntax_error(c, "'%s' needs %d argument(s)", c->tok[i], n);
}

/* meta KEY into register 1 */
static void expr_meta(struct nlmsghdr *nlh, uint32_t key)
{
	struct nlattr *e = expr_begin(nlh, "meta");

	mnl_attr_put_u32(nlh, NFTA_META_DREG, htonl(NFT_REG_1));
	mnl_attr_put_u32(nlh, NFTA_META_KEY, htonl(key));
	expr_end(nlh, e);
}

/* ct KEY set VALUE: an immediate into register 1, then ct with it as sreg */
static void ct_set(struct nlmsghdr *nlh, uint32_t key, uint32_t value)
{
	struct nlattr *e, *d;

	e = expr_begin(nlh, "immediate");
	mnl_attr_put_u32(nlh, NFTA_IMMEDIATE_DREG, htonl(NFT_REG_1));
	d = mnl_attr_nest_start(nlh, NFTA_IMMEDIATE_DATA);
	mnl_attr_put(nlh, NFTA_DATA_VALUE, sizeof(value), &value);
	mnl_attr_nest_end(nlh, d);
	expr_end(nlh, e);
	e = expr_begin(nlh, "ct");
	mnl_attr_put_u32(nlh, NFTA_CT_SREG, htonl(NFT_REG_1));
	mnl_attr_put_u32(nlh, NFTA_CT_KEY, htonl(key));
	expr_end(nlh, e);
}

/*
 * The expression builders: each takes the tokens of one expression from
 * c->tok[i] (its name) on, appends its nf_tables expressions to the rule
 * and returns the index of the next expression's name.  ARG is the one of
 * its expr_types[] entry, whose NARGS arguments build_exprs() has checked
 * are there.
 */

/* ct event set LIST | ct mark set N | ct state LIST */
static int build_ct(const struct cmd *c, struct nlmsghdr *nlh, int i, int arg)
{
	unsigned long long v;
	uint32_t mask, zero = 0;
	struct nlattr *e;

	(void)arg;
	if (i + 1 < c->ntok && !strcmp(c->tok[i + 1], "event")) {
		/* the entry's event mask */
		need(c, i, 3);
		if (strcmp(c->tok[i + 2], "set"))
			syntax_error(c, "only 'ct event set' is supported");
		ct_set(nlh, NFT_CT_EVENTMASK, parse_ct_events(c, c->tok[i + 3]));
		return i + 4;
	}
	need(c, i, 2);
	if (!strcmp(c->tok[i + 1], "mark")) {
		/* for the BPF tracer's selection */
		need(c, i, 3);
		if (strcmp(c->tok[i + 2], "set") ||
		    !parse_num(c->tok[i + 3], 0, 0, UINT32_MAX, &v))
			syntax_error(c, "only 'ct mark set N' is supported");
		ct_set(nlh, NFT_CT_MARK, v);
		return i + 4;
	}
	if (strcmp(c->tok[i + 1], "state"))
		syntax_error(c, "only 'ct state', 'ct mark set' and 'ct event set' are supported");
	mask = parse_ct_states(c, c->tok[i + 2]);
	e = expr_begin(nlh, "ct");
	mnl_attr_put_u32(nlh, NFTA_CT_DREG, htonl(NFT_REG_1));
	mnl_attr_put_u32(nlh, NFTA_CT_KEY, htonl(NFT_CT_STATE));
	expr_end(nlh, e);
	e = expr_begin(nlh, "bitwise");
	mnl_attr_put_u32(nlh, NFTA_BITWISE_SREG, htonl(NFT_REG_1));
	mnl_attr_put_u32(nlh, NFTA_BITWISE_DREG, htonl(NFT_REG_1));
	mnl_attr_put_u32(nlh, NFTA_BITWISE_LEN, htonl(4));
	put_data_value(nlh, NFTA_BITWISE_MASK, &mask, 4);
	put_data_value(nlh, NFTA_BITWISE_XOR, &zero, 4);
	expr_end(nlh, e);
	expr_cmp(nlh, NFT_CMP_NEQ, &zero, 4);
	return i + 3;
}

static int build_l4proto(const struct cmd *c, struct nlmsghdr *nlh, int i,
			 int arg)
{
	uint8_t p = parse_l4proto(c, c->tok[i + 1]);

	(void)arg;
	expr_meta(nlh, NFT_META_L4PROTO);
	expr_cmp(nlh, NFT_CMP_EQ, &p, 1);
	return i + 2;
}

/* dport N, sport N: ARG is the port's offset in the transport header */
static int build_port(const struct cmd *c, struct nlmsghdr *nlh, int i,
		      int arg)
{
	struct nlattr *e;
	uint16_t port;

	port = htons(parse_u16(c, c->tok[i + 1], "port"));
	e = expr_begin(nlh, "payload");
	mnl_attr_put_u32(nlh, NFTA_PAYLOAD_DREG, htonl(NFT_REG_1));
	mnl_attr_put_u32(nlh, NFTA_PAYLOAD_BASE,
			 htonl(NFT_PAYLOAD_TRANSPORT_HEADER));
	mnl_attr_put_u32(nlh, NFTA_PAYLOAD_OFFSET, htonl(arg));
	mnl_attr_put_u32(nlh, NFTA_PAYLOAD_LEN, htonl(2));
	expr_end(nlh, e);
	expr_cmp(nlh, NFT_CMP_EQ, &port, 2);
	return i + 2;
}

/* ctevent raw num=X,total=Y,flags=Z,sreg=R: any subset, unchecked */
static void ctevent_raw(const struct cmd *c, struct nlmsghdr *nlh,
			const char *arg)
{
	char *copy = strdup(arg), *kv, *save = NULL;
	struct nlattr *e = expr_begin(nlh, "ctevent");

	for (kv = strtok_r(copy, ",", &save); kv;
	     kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');
		unsigned long long v;

		if (!eq)
			syntax_error(c, "bad ctevent raw item '%s'", kv);
		*eq++ = '\0';
		if (!strcmp(kv, "num")) {
			mnl_attr_put_u16(nlh, NFTA_CTEVENT_NUM,
					 htons(parse_u16(c, eq, kv)));
		} else if (!strcmp(kv, "total")) {
			mnl_attr_put_u16(nlh, NFTA_CTEVENT_TOTAL,
					 htons(parse_u16(c, eq, kv)));
		} else if (!strcmp(kv, "flags")) {
			mnl_attr_put_u16(nlh, NFTA_CTEVENT_FLAGS,
					 htons(parse_u16(c, eq, kv)));
		} else if (!strcmp(kv, "sreg")) {
			if (!parse_num(eq, 0, 0, UINT32_MAX, &v))
				syntax_error(c, "bad sreg '%s'", eq);
			mnl_attr_put_u32(nlh, NFTA_CTEVENT_SREG_QNUM, htonl(v));
		} else {
			syntax_error(c, "unknown ctevent raw key '%s'", kv);
		}
	}
	expr_end(nlh, e);
	free(copy);
}

/* an optional "bypass" at token I; returns the index after it */
static int ctevent_bypass(const struct cmd *c, struct nlmsghdr *nlh, int i)
{
	if (i < c->ntok && !strcmp(c->tok[i], "bypass")) {
		mnl_attr_put_u16(nlh, NFTA_CTEVENT_FLAGS,
				 htons(NFT_CTEVENT_F_BYPASS));
		i++;
	}
	return i;
}

/* ctevent N|A-B [bypass]: the queue, or a range spread over */
static int ctevent_queues(const struct cmd *c, struct nlmsghdr *nlh, int i)
{
	const char *arg = c->tok[i + 1];
	const char *dash = strchr(arg, '-');
	uint16_t num, last = 0;
	struct nlattr *e;

	if (dash) {
		char a[32];
		size_t l = dash - arg;

		if (l == 0 || l >= sizeof(a))
			syntax_error(c, "bad ctevent queue range '%s'", arg);
		memcpy(a, arg, l);
		a[l] = '\0';
		num = parse_u16(c, a, "queue number");
		last = parse_u16(c, dash + 1, "queue number");
		if (last < num)
			syntax_error(c, "bad ctevent queue range '%s'", arg);
		if (last - num + 1 > 65535)
			syntax_error(c, "ctevent queue range '%s' too large", arg);
	} else {
		num = parse_u16(c, arg, "queue number");
	}
	e = expr_begin(nlh, "ctevent");
	mnl_attr_put_u16(nlh, NFTA_CTEVENT_NUM, htons(num));
	if (dash)
		mnl_attr_put_u16(nlh, NFTA_CTEVENT_TOTAL, htons(last - num + 1));
	i = ctevent_bypass(c, nlh, i + 2);
	expr_end(nlh, e);
	return i;
}

/* ctevent to mark [bypass]: the queue number is the packet mark */
static int ctevent_to_mark(const struct cmd *c, struct nlmsghdr *nlh, int i)
{
	struct nlattr *e;

	need(c, i, 2);
	if (strcmp(c->tok[i + 2], "mark"))
		syntax_error(c, "only 'ctevent to mark' is supported");
	expr_meta(nlh, NFT_META_MARK);
	e = expr_begin(nlh, "ctevent");
	mnl_attr_put_u32(nlh, NFTA_CTEVENT_SREG_QNUM, htonl(NFT_REG_1));
	i = ctevent_bypass(c, nlh, i + 3);
	expr_end(nlh, e);
	return i;
}

static int build_ctevent(const struct cmd *c, struct nlmsghdr *nlh, int i,
			 int arg)
{
	(void)arg;
	if (!strcmp(c->tok[i + 1], "to"))
		return ctevent_to_mark(c, nlh, i);
	if (strcmp(c->tok[i + 1], "raw"))
		return ctevent_queues(c, nlh, i);
	need(c, i, 2);
	ctevent_raw(c, nlh, c->tok[i + 2]);
	return i + 3;
}

/* queue N: nf_queue, for tests that hold a packet */
static int build_queue(const struct cmd *c, struct nlmsghdr *nlh, int i,
		       int arg)
{
	struct nlattr *e;

	(void)arg;
	e = expr_begin(nlh, "queue");
	mnl_attr_put_u16(nlh, NFTA_QUEUE_NUM,
			 htons(parse_u16(c, c->tok[i + 1], "queue number")));
	mnl_attr_put_u16(nlh, NFTA_QUEUE_TOTAL, htons(1));
	expr_end(nlh, e);
	return i + 2;
}

/* counter, notrack: the nf_tables expression of that name, no attributes */
static int build_plain(const struct cmd *c, struct nlmsghdr *nlh, int i,
		       int arg)
{
	(void)arg;
	expr_end(nlh, expr_begin(nlh, c->tok[i]));
	return i + 1;
}

/* drop, accept: ARG is the verdict */
static int build_verdict(const struct cmd *c, struct nlmsghdr *nlh, int i,
			 int arg)
{
	(void)c;
	expr_verdict(nlh, arg);
	return i + 1;
}

static const struct expr_type {
	const char *name;
	int nargs;
	int (*build)(const struct cmd *c, struct nlmsghdr *nlh, int i, int arg);
	int arg;
} expr_types[] = {
	/* ct checks its own: how many depends on the next word */
	{ "ct",		0, build_ct,		0 },
	{ "l4proto",	1, build_l4proto,	0 },
	{ "dport",	1, build_port,		2 },
	{ "sport",	1, build_port,		0 },
	{ "ctevent",	1, build_ctevent,	0 },
	{ "queue",	1, build_queue,		0 },
	{ "counter",	0, build_plain,		0 },
	{ "notrack",	0, build_plain,		0 },
	{ "drop",	0, build_verdict,	NF_DROP },
	{ "accept",	0, build_verdict,	NF_ACCEPT },
};

static void build_exprs(const struct cmd *c, struct nlmsghdr *nlh, int i)
{
	struct nlattr *list = mnl_attr_nest_start(nlh, NFTA_RULE_EXPRESSIONS);

	if (i >= c->ntok)
		syntax_error(c, "rule without expressions");
	while (i < c->ntok) {
		const struct expr_type *et = NULL;

		for (unsigned int n = 0; !et && n < ARRAY_SIZE(expr_types); n++)
			if (!strcmp(c->tok[i], expr_types[n].name))
				et = &expr_types[n];
		if (!et)
			syntax_error(c, "unknown expression '%s'", c->tok[i]);
		need(c, i, et->nargs);
		i = et->build(c, nlh, i, et->arg);
	}
	mnl_attr_nest_end(nlh, list);
}

static void check_args(const struct cmd *c, int min, int max)
{
	if (c->ntok < min || (max >= 0 && c->ntok > max))
		syntax_error(c, "wrong number of arguments for '%s %s'",
			     c->tok[0], c->ntok > 1 ? c->tok[1] : "");
}

/* append a batched (table/chain/rule) command */
static void build_cmd(const struct cmd *c)
{
	struct nlmsghdr *nlh;
	int family;

	if (!first_line)
		first_line = c->line;
	if (!strcmp(c->tok[0], "add") && !strcmp(c->tok[1], "table")) {
		check_args(c, 4, 4);
		family = parse_family(c, c->tok[2]);
		nlh = put_msg(c->line, NFT_MSG_NEWTABLE, NLM_F_CREATE, family);
		mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, c->tok[3]);
		end_msg(nlh);
	} else if (!strcmp(c->tok[0], "delete") && !strcmp(c->tok[1], "table")) {
		check_args(c, 4, 4);
		family = parse_family(c, c->tok[2]);
		nlh = put_msg(c->line, NFT_MSG_DELTABLE, 0, family);
		mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, c->tok[3]);
		end_msg(nlh);
	} else if (!strcmp(c->tok[0], "flush") && !strcmp(c->tok[1], "chain")) {
		/* every rule of the chain; the chain and its hook stay */
		check_args(c, 5, 5);
		family = parse_family(c, c->tok[2]);
		nlh = put_msg(c->line, NFT_MSG_DELRULE, 0, family);
		mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, c->tok[3]);
		mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, c->tok[4]);
		end_msg(nlh);
	} else if (!strcmp(c->tok[0], "add") && !strcmp(c->tok[1], "chain")) {
		struct nlattr *hook;
		uint32_t hooknum;
		unsigned long long prio;

		check_args(c, 7, 9);
		if (c->ntok == 8 || (c->ntok == 9 && strcmp(c->tok[7], "dev")))
			syntax_error(c, "expected 'dev IFNAME' after the priority");
		family = parse_family(c, c->tok[2]);
		hooknum = parse_hook(c, family, c->tok[5]);
		if (!parse_num(c->tok[6], 0, INT32_MIN, INT32_MAX, &prio))
			syntax_error(c, "invalid priority '%s'", c->tok[6]);
		nlh = put_msg(c->line, NFT_MSG_NEWCHAIN, NLM_F_CREATE, family);
		mnl_attr_put_strz(nlh, NFTA_CHAIN_TABLE, c->tok[3]);
		mnl_attr_put_strz(nlh, NFTA_CHAIN_NAME, c->tok[4]);
		hook = mnl_attr_nest_start(nlh, NFTA_CHAIN_HOOK);
		mnl_attr_put_u32(nlh, NFTA_HOOK_HOOKNUM, htonl(hooknum));
		mnl_attr_put_u32(nlh, NFTA_HOOK_PRIORITY, htonl((uint32_t)(int32_t)prio));
		if (c->ntok == 9)
			mnl_attr_put_strz(nlh, NFTA_HOOK_DEV, c->tok[8]);
		mnl_attr_nest_end(nlh, hook);
		mnl_attr_put_u32(nlh, NFTA_CHAIN_POLICY, htonl(NF_ACCEPT));
		mnl_attr_put_strz(nlh, NFTA_CHAIN_TYPE, "filter");
		end_msg(nlh);
	} else if (!strcmp(c->tok[0], "add") && !strcmp(c->tok[1], "rule")) {
		check_args(c, 6, -1);
		family = parse_family(c, c->tok[2]);
		nlh = put_msg(c->line, NFT_MSG_NEWRULE,
			      NLM_F_CREATE | NLM_F_APPEND, family);
		mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, c->tok[3]);
		mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, c->tok[4]);
		build_exprs(c, nlh, 5);
		end_msg(nlh);
	} else {
		syntax_error(c, "unknown command '%s %s'", c->tok[0], c->tok[1]);
	}
}

static bool is_list(const struct cmd *c)
{
	return !strcmp(c->tok[0], "list");
}

static bool is_commit(const struct cmd *c)
{
	return c->ntok == 1 && !strcmp(c->tok[0], "commit");
}

/* ---- ack handling ---- */

static void report_error(int line, const struct nlmsghdr *nlh)
{
	const char *msg;
	int e = nl_ack_error(nlh, &msg);

	fprintf(stderr, PROG ": line %d: %s (%s)%s%s\n", line, strerror(e),
		nl_errname(e), msg ? ": " : "", msg ? msg : "");
	failed = 1;
}

static void flush_batch(void)
{
	static char rx[65536];
	int expected, got = 0;
	bool *seen;
	double t0;

	if (!nmsgs)
		return;
	put_batch_marker(NFNL_MSG_BATCH_END, first_line);
	expected = nmsgs - 2;	/* acks for all but BEGIN/END */
	t0 = now_mono();

	if (mnl_socket_sendto(nl, batch, batch_len) < 0) {
		fprintf(stderr, PROG ": line %d: sendto: %s (%s)\n", first_line,
			strerror(errno), nl_errname(errno));
		exit(1);
	}

	seen = calloc(nmsgs, sizeof(*seen));
	while (got < expected) {
		struct pollfd pfd = { .fd = mnl_socket_get_fd(nl), .events = POLLIN };
		const struct nlmsghdr *nlh;
		int n, r;

		/* the batch is processed synchronously in sendmsg(); the
		 * timeout only guards against a kernel not acking at all */
		r = poll(&pfd, 1, 2000);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n = recv(pfd.fd, rx, sizeof(rx), 0);
		if (n < 0) {
			fprintf(stderr, PROG ": recv: %s (%s)\n",
				strerror(errno), nl_errname(errno));
			exit(1);
		}
		for (nlh = (const struct nlmsghdr *)rx; mnl_nlmsg_ok(nlh, n);
		     nlh = mnl_nlmsg_next(nlh, &n)) {
			const struct nlmsgerr *err;
			uint32_t idx = nlh->nlmsg_seq - seq_base;

			if (nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*err)) ||
			    idx >= (uint32_t)nmsgs)
				continue;
			err = mnl_nlmsg_get_payload(nlh);
			if (err->error)
				report_error(seq_line[idx], nlh);
			if (idx == 0 || idx == (uint32_t)nmsgs - 1) {
				/* error on BEGIN/END: no further acks */
				if (err->error)
					got = expected;
				continue;
			}
			if (!seen[idx]) {
				seen[idx] = true;
				got++;
			}
		}
	}
	if (got < expected && !failed) {
		fprintf(stderr, PROG ": line %d: missing acks (%d of %d)\n",
			first_line, got, expected);
		failed = 1;
	}
	free(seen);
	if (batch_idx < MAX_TIMED)
		batch_s[batch_idx] += now_mono() - t0;
	batch_idx++;

	seq_base += nmsgs;
	nmsgs = 0;
	batch_len = 0;
	first_line = 0;
}

static void start_batch(int line)
{
	batch_len = 0;
	nmsgs = 0;
	first_line = 0;
	put_batch_marker(NFNL_MSG_BATCH_BEGIN, line);
}

/* ---- list counters ---- */

struct rule_info {
	const char *chain;
	uint64_t handle;
	bool has_counter;
	uint64_t packets, bytes;
};

static int attr_table_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (type < 32)
		tb[type] = attr;
	return MNL_CB_OK;
}

static int expr_cb(const struct nlattr *attr, void *data)
{
	struct rule_info *ri = data;
	const struct nlattr *tb[32] = { NULL };
	const struct nlattr *ctb[32] = { NULL };

	if (ri->has_counter || mnl_attr_get_type(attr) != NFTA_LIST_ELEM)
		return MNL_CB_OK;
	mnl_attr_parse_nested(attr, attr_table_cb, tb);
	if (!tb[NFTA_EXPR_NAME] || !tb[NFTA_EXPR_DATA] ||
	    strcmp(mnl_attr_get_str(tb[NFTA_EXPR_NAME]), "counter"))
		return MNL_CB_OK;
	mnl_attr_parse_nested(tb[NFTA_EXPR_DATA], attr_table_cb, ctb);
	ri->has_counter = true;
	if (ctb[NFTA_COUNTER_PACKETS])
		ri->packets = be64toh(mnl_attr_get_u64(ctb[NFTA_COUNTER_PACKETS]));
	if (ctb[NFTA_COUNTER_BYTES])
		ri->bytes = be64toh(mnl_attr_get_u64(ctb[NFTA_COUNTER_BYTES]));
	return MNL_CB_OK;
}

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	const char *table = data;
	const struct nlattr *tb[32] = { NULL };
	struct rule_info ri = { 0 };

	if (NFNL_MSG_TYPE(nlh->nlmsg_type) != NFT_MSG_NEWRULE)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(struct nfgenmsg), attr_table_cb, tb);
	if (!tb[NFTA_RULE_TABLE] || !tb[NFTA_RULE_CHAIN] ||
	    strcmp(mnl_attr_get_str(tb[NFTA_RULE_TABLE]), table))
		return MNL_CB_OK;
	ri.chain = mnl_attr_get_str(tb[NFTA_RULE_CHAIN]);
	if (tb[NFTA_RULE_HANDLE])
		ri.handle = be64toh(mnl_attr_get_u64(tb[NFTA_RULE_HANDLE]));
	if (tb[NFTA_RULE_EXPRESSIONS])
		mnl_attr_parse_nested(tb[NFTA_RULE_EXPRESSIONS], expr_cb, &ri);
	if (ri.has_counter)
		printf("%s %" PRIu64 " packets %" PRIu64 " bytes %" PRIu64 "\n",
		       ri.chain, ri.handle, ri.packets, ri.bytes);
	return MNL_CB_OK;
}

static void list_counters(const struct cmd *c)
{
	char buf[65536];
	struct nlmsghdr *nlh;
	uint32_t seq = seq_base++;
	unsigned int portid = mnl_socket_get_portid(nl);
	int family, ret;

	family = parse_family(c, c->tok[2]);
	if (dry_run)
		return;

	nlh = nfnl_msg_put(buf, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETRULE,
			   NLM_F_REQUEST | NLM_F_DUMP, seq, family, 0);
	mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, c->tok[3]);

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		fprintf(stderr, PROG ": line %d: sendto: %s (%s)\n", c->line,
			strerror(errno), nl_errname(errno));
		exit(1);
	}
	for (;;) {
		ret = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		ret = mnl_cb_run(buf, ret, seq, portid, rule_cb,
				 (void *)c->tok[3]);
		if (ret <= 0)
			break;
	}
	if (ret < 0) {
		fprintf(stderr, PROG ": line %d: %s (%s)\n", c->line,
			strerror(errno), nl_errname(errno));
		failed = 1;
	}
	fflush(stdout);
}

/* ---- command collection ---- */

static void add_cmd(int line, char **tok, int ntok)
{
	struct cmd *c;

	if (!ntok)
		return;
	cmds = realloc(cmds, (ncmds + 1) * sizeof(*cmds));
	c = &cmds[ncmds++];
	c->line = line;
	c->ntok = ntok;
	c->tok = malloc(ntok * sizeof(char *));
	memcpy(c->tok, tok, ntok * sizeof(char *));
}

static void read_file(const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	char *line = NULL;
	size_t cap = 0;
	int lineno = 0;

	if (!f) {
		fprintf(stderr, PROG ": %s: %s\n", path, strerror(errno));
		exit(2);
	}
	while (getline(&line, &cap, f) >= 0) {
		char *hash, *tok, *save = NULL, *copy;
		char **toks = NULL;
		int ntok = 0;

		lineno++;
		hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		copy = strdup(line);
		for (tok = strtok_r(copy, " \t\r\n", &save); tok;
		     tok = strtok_r(NULL, " \t\r\n", &save)) {
			if (!strcmp(tok, ";")) {
				add_cmd(lineno, toks, ntok);
				ntok = 0;
				continue;
			}
			toks = realloc(toks, (ntok + 1) * sizeof(*toks));
			toks[ntok++] = tok;
		}
		add_cmd(lineno, toks, ntok);
		free(toks);
	}
	free(line);
	if (f != stdin)
		fclose(f);
}

static void validate(const struct cmd *c)
{
	if (is_commit(c))
		return;
	if (c->ntok < 2)
		syntax_error(c, "incomplete command '%s'", c->tok[0]);
	if (is_list(c)) {
		if (strcmp(c->tok[1], "counters"))
			syntax_error(c, "only 'list counters' is supported");
		check_args(c, 4, 4);
		parse_family(c, c->tok[2]);
	}
}

int main(int argc, char **argv)
{
	char **toks;
	int ntok = 0, cmdno = 1, opt, i;
	int sz = 16 * 1024 * 1024;
	unsigned long long rounds = 1, round;

	while ((opt = getopt(argc, argv, "+f:n:h")) != -1) {
		switch (opt) {
		case 'f':
			read_file(optarg);
			break;
		case 'n':
			if (!parse_num(optarg, 0, 1, 100000000, &rounds)) {
				fprintf(stderr, PROG ": bad -n '%s'\n", optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	/* argument commands: numbered 1, 2, ... in order */
	toks = calloc(argc + 1, sizeof(*toks));
	for (i = optind; i < argc; i++) {
		char *a = argv[i];
		size_t l = strlen(a);
		bool sep_after = false;

		if (!strcmp(a, ";")) {
			if (ntok)
				add_cmd(cmdno++, toks, ntok);
			ntok = 0;
			continue;
		}
		if (l > 1 && a[l - 1] == ';') {	/* "accept;" */
			a[l - 1] = '\0';
			sep_after = true;
		}
		toks[ntok++] = a;
		if (sep_after) {
			add_cmd(cmdno++, toks, ntok);
			ntok = 0;
		}
	}
	if (ntok)
		add_cmd(cmdno++, toks, ntok);
	if (!ncmds) {
		usage(stderr);
		return 2;
	}

	batch = malloc(BATCH_SIZE);
	seq_line = malloc(BATCH_SIZE / 16 * sizeof(int));
	if (!batch || !seq_line) {
		perror(PROG ": malloc");
		return 1;
	}

	/* pass 1: syntax only */
	dry_run = true;
	for (i = 0; i < ncmds; i++) {
		validate(&cmds[i]);
		if (is_list(&cmds[i]) || is_commit(&cmds[i]))
			continue;
		start_batch(cmds[i].line);
		build_cmd(&cmds[i]);
	}
	dry_run = false;

	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl) {
		perror(PROG ": mnl_socket_open");
		return 1;
	}
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror(PROG ": mnl_socket_bind");
		return 1;
	}
	{
		int fd = mnl_socket_get_fd(nl), one = 1;

		setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
		setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
			setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
		if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
			setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	}
	seq_base = (uint32_t)time(NULL);

	/* pass 2: consecutive table/chain/rule commands form one batch */
	nmsgs = 0;
	batch_len = 0;
	for (round = 0; round < rounds && !failed; round++) {
		batch_idx = 0;
		for (i = 0; i < ncmds; i++) {
			const struct cmd *c = &cmds[i];

			if (is_commit(c)) {
				flush_batch();
				continue;
			}
			if (is_list(c)) {
				flush_batch();
				list_counters(c);
				continue;
			}
			if (nmsgs && batch_len + CMD_RESERVE + c->ntok * 512 > BATCH_SIZE)
				flush_batch();
			if (!nmsgs)
				start_batch(c->line);
			build_cmd(c);
		}
		flush_batch();
	}
	if (rounds > 1 && !failed)
		for (i = 0; i < batch_idx && i < MAX_TIMED; i++)
			printf("batch=%d rounds=%llu us=%.2f\n", i + 1, rounds,
			       batch_s[i] * 1e6 / rounds);

	mnl_socket_close(nl);
	return failed ? 1 : 0;
}
