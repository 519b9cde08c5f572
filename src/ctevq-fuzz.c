// SPDX-License-Identifier: GPL-2.0
/*
 * ctevq-fuzz: a deterministic netlink fuzzer for the ct event queue
 * feature: the ctnetlink message IPCTNL_MSG_CT_EVQ_CFG and the nf_tables
 * "ctevent" expression.
 *
 *   ctevq-fuzz [--seed S] [--count N] [--sockets K] [--udp ADDR] [--show D]
 *              [--watchdog SECONDS] [--verbose]
 *
 * The messages are a function of the seed only (xorshift64*), never of the
 * kernel's answers, so a seed reproduces the same byte stream.  Every message
 * asks for an ack; the fuzzer checks that each one gets exactly one answer
 * (an error or an ack).  Messages the netlink core is documented to drop
 * without an answer (a truncated trailing header ends the datagram, a batch
 * with a broken header is thrown away whole) are generated too, but they are
 * not counted: for them the check is that no answer comes back.
 *
 * Last line on stdout:  fuzz: N messages, E errors, A acks, M missing
 * Exit status: 0 if every counted message got exactly one answer and no
 * unexpected answer arrived; 1 otherwise; 2 on usage errors; 3 if a single
 * send/receive round hung for the watchdog's time (default 30 s).  A round
 * whose batch creates a rule over the whole queue range allocates 65535
 * queues: a fraction of a second on a production kernel, more than 30 s on
 * a debug kernel (KASAN, lockdep, kmemleak) under qemu TCG, so runs there
 * pass a longer --watchdog.  The summary names the slowest round.
 *
 * Created objects: tables "ctevqfuzz" of the families inet (base chains
 * post [postrouting], pre [prerouting -300], ing [ingress, dev lo], regular
 * chain aux), ip (out [output]), bridge (br [postrouting]) and netdev (nd
 * [ingress, dev lo]).  They are left in place at exit (delete them with
 * ctevq-rule delete table FAMILY ctevqfuzz).
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
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
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include "ctevq_uapi.h"
#include "nlutil.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

#define PROG		"ctevq-fuzz"
#define TABLE		"ctevqfuzz"
#define MAX_SOCKS	64
#define DGRAM_MAX	(48 * 1024)	/* stop adding messages beyond this */
#define BUF_SIZE	(DGRAM_MAX + 8192)
#define MAX_MSGS	512		/* per datagram */
#define RX_VLEN		64
#define RX_SIZE		8192
#define ANSWER_TIMEOUT_MS 2000

/* ---- PRNG: xorshift64* ---- */

static uint64_t rng;

static uint64_t rnd64(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545F4914F6CDD1DULL;
}

static uint32_t rnd32(void) { return rnd64() >> 32; }
static uint32_t rn(uint32_t n) { return n ? rnd32() % n : 0; }
static bool chance(unsigned int pct) { return rn(100) < pct; }

/* ---- sockets ---- */

struct fsock {
	struct mnl_socket *nl;
	int fd;
	uint32_t portid;
	int idx;
};

static struct fsock socks[MAX_SOCKS];
static int nsocks = 4;
static bool verbose;
static unsigned int round_watchdog = 30;	/* seconds */
static unsigned long show_dgram;	/* --show: hexdump this datagram */

static void sock_open(struct fsock *s)
{
	int one = 1, sz = 8 * 1024 * 1024;

	s->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!s->nl) {
		perror(PROG ": mnl_socket_open");
		exit(1);
	}
	if (mnl_socket_bind(s->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror(PROG ": mnl_socket_bind");
		exit(1);
	}
	s->fd = mnl_socket_get_fd(s->nl);
	s->portid = mnl_socket_get_portid(s->nl);
	setsockopt(s->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(s->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	/* a datagram of many messages queues as many acks at once */
	if (setsockopt(s->fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
}

static void sock_close(struct fsock *s)
{
	mnl_socket_close(s->nl);
	s->nl = NULL;
	s->fd = -1;
}

/* ---- datagrams ---- */

enum expect {
	EXP_ONE,	/* counted: exactly one answer */
	EXP_NONE,	/* not counted: no answer allowed */
	EXP_MAYBE,	/* batch markers: an error answer allowed */
};

struct pmsg {
	uint32_t off, len;	/* where in the datagram */
	uint32_t seq;
	uint8_t expect;
	uint8_t got;
	uint8_t kind;		/* for the report */
};

struct dgram {
	struct fsock *s;
	char buf[BUF_SIZE];
	size_t len;
	uint32_t seq0;
	int n;
	bool done;
	struct pmsg m[MAX_MSGS];
};

static const char *const kind_names[] = {
	"cfg", "cfg-short-nfgen", "cfg-badtype", "cfg-noreq", "tail",
	"batch-begin", "batch-end", "newrule", "delrule", "flush",
	"newtable", "newchain", "deltable", "broken", "ct-flush",
};
enum {
	K_CFG, K_CFG_SHORT, K_CFG_BADTYPE, K_CFG_NOREQ, K_TAIL,
	K_BEGIN, K_END, K_NEWRULE, K_DELRULE, K_FLUSH,
	K_NEWTABLE, K_NEWCHAIN, K_DELTABLE, K_BROKEN, K_CTFLUSH,
};

static uint32_t seq_next = 1;
static unsigned long dgram_no;

/* statistics */
static unsigned long n_msgs, n_err, n_ack, n_missing;
static unsigned long n_unexpected, n_uncounted, n_batch_err, n_other;
static unsigned long n_sock_cycles, n_dgrams, n_overrun, n_udp;
static unsigned long err_hist[256];
static unsigned long kind_ack[16], kind_err[16];
static uint64_t stream_hash = 0xcbf29ce484222325ULL;	/* FNV-1a of all bytes sent */

static struct nlmsghdr *msg_start(struct dgram *d, uint16_t type,
				  uint16_t flags, uint8_t kind)
{
	struct nlmsghdr *nlh;

	nlh = mnl_nlmsg_put_header(d->buf + d->len);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	nlh->nlmsg_seq = seq_next++;
	d->m[d->n].seq = nlh->nlmsg_seq;
	d->m[d->n].off = d->len;
	d->m[d->n].expect = EXP_ONE;
	d->m[d->n].got = 0;
	d->m[d->n].kind = kind;
	return nlh;
}

static void msg_end(struct dgram *d, struct nlmsghdr *nlh)
{
	d->m[d->n].len = nlh->nlmsg_len;
	d->len += MNL_ALIGN(nlh->nlmsg_len);
	d->n++;
}

static void put_nfgen(struct nlmsghdr *nlh, uint8_t family, uint16_t res_id)
{
	struct nfgenmsg *nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));

	nfg->nfgen_family = family;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(res_id);
}

static bool dgram_full(const struct dgram *d)
{
	return d->len > DGRAM_MAX - 2048 || d->n >= MAX_MSGS - 4;
}

/* an attribute of type with a payload of len bytes holding val (BE, the
 * low bytes of val right-aligned for len <= 8) */
static void put_int_attr(struct nlmsghdr *nlh, uint16_t type, unsigned int len,
			 uint64_t val)
{
	uint8_t b[8] = { 0 };

	for (unsigned int i = 0; i < len && i < 8; i++)
		b[i] = val >> (8 * (len - 1 - i));
	mnl_attr_put(nlh, type, len, b);
}

/* payload length for an attribute that wants want bytes */
static unsigned int fuzz_len(unsigned int want, unsigned int bad_pct)
{
	if (!chance(bad_pct))
		return want;
	return rn(9);			/* 0..8 */
}

/* unknown attribute types, some with the nested/byte order flags set */
static void put_unknown_attrs(struct nlmsghdr *nlh, uint16_t maxtype)
{
	int n = 1 + rn(3);

	while (n--) {
		uint16_t type;

		switch (rn(4)) {
		case 0: type = 0; break;
		case 1: type = maxtype + 1 + rn(8); break;
		case 2: type = rn(0x4000); break;
		default: type = maxtype + 1 + rn(4); break;
		}
		if (chance(20))
			type |= NLA_F_NESTED;
		if (chance(10))
			type |= NLA_F_NET_BYTEORDER;
		put_int_attr(nlh, type, rn(9), rnd64());
	}
}

/* queue numbers: mostly a small pool, so that binds, unbinds and rules
 * meet */
static uint32_t pick_queue(void)
{
	static const uint16_t pool[] = { 0, 1, 2, 3, 4, 5, 65535, 65534 };
	unsigned int r = rn(100);

	if (r < 2)
		return rnd32() & 0xffff;	/* anything */
	if (r < 4)
		return 65520 + rn(16);		/* top of the range */
	return pool[rn(sizeof(pool) / sizeof(pool[0]))];
}

/* queue numbers outside the pool that a socket was sent a bind for (by the
 * generator, whatever the kernel answered): unbinds pick them again */
#define RECENT 8
struct recent {
	uint16_t q[RECENT];
	int n;
};
static struct recent *cur_recent;

static uint32_t pick_bind_queue(void)
{
	uint32_t q = pick_queue();

	if (q > 5 && q < 65534 && cur_recent) {
		cur_recent->q[cur_recent->n % RECENT] = q;
		cur_recent->n++;
	}
	return q;
}

static uint32_t pick_unbind_queue(void)
{
	if (cur_recent && cur_recent->n && chance(30)) {
		int n = cur_recent->n < RECENT ? cur_recent->n : RECENT;

		return cur_recent->q[rn(n)];
	}
	return pick_queue();
}

static uint32_t pick_events(void)
{
	switch (rn(10)) {
	case 0: return 0;
	case 1: return rnd32();
	case 2: return 1u << rn(32);
	case 3: return rn(16);
	default: return 1 + rn(CTNL_EVQ_EV_ALL);
	}
}

static uint32_t pick_flags32(void)
{
	switch (rn(8)) {
	case 0: return rnd32();
	case 1: return CTNL_EVQ_F_RELIABLE;
	case 2: return 1u << rn(32);
	default: return 0;
	}
}

static uint8_t pick_cmd(void)
{
	switch (rn(10)) {
	case 0: return rnd32() & 0xff;
	case 1: return CTNL_EVQ_CMD_UNSPEC;
	case 2: return 3 + rn(3);
	case 3: case 4: case 5: return CTNL_EVQ_CMD_UNBIND;
	default: return CTNL_EVQ_CMD_BIND;
	}
}

/* ---- IPCTNL_MSG_CT_EVQ_CFG messages ---- */

static void gen_cfg(struct dgram *d)
{
	uint16_t type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_EVQ_CFG;
	uint16_t flags = NLM_F_REQUEST | NLM_F_ACK;
	uint8_t kind = K_CFG;
	struct nlmsghdr *nlh;
	unsigned int r = rn(100);

	if (r < 2) {
		/* ctnetlink message types past the last one */
		type = (NFNL_SUBSYS_CTNETLINK << 8) |
		       (IPCTNL_MSG_CT_EVQ_GET + 1 + rn(8));
		if (chance(20))
			type = (NFNL_SUBSYS_CTNETLINK << 8) | 0xff;
		kind = K_CFG_BADTYPE;
	} else if (r < 3) {
		/* control message types: acked without a look inside */
		type = NLMSG_NOOP + rn(NLMSG_MIN_TYPE - 1);
		if (type == NLMSG_ERROR)
			type = NLMSG_NOOP;
		kind = K_CFG_BADTYPE;
	} else if (r < 4) {
		flags &= ~NLM_F_REQUEST;	/* acked, never handled */
		kind = K_CFG_NOREQ;
	}
	if (chance(5))
		flags |= (uint16_t[]){ NLM_F_ECHO, NLM_F_EXCL, NLM_F_CREATE,
				       NLM_F_REPLACE, NLM_F_APPEND,
				       NLM_F_ROOT }[rn(6)];

	nlh = msg_start(d, type, flags, kind);

	if (chance(3)) {
		/* truncated nfgenmsg: 0..3 bytes of it */
		unsigned int l = rn(4);

		memset(mnl_nlmsg_get_payload(nlh), rn(256), l);
		nlh->nlmsg_len += l;
		d->m[d->n].kind = K_CFG_SHORT;
		msg_end(d, nlh);
		return;
	}
	if (chance(8))
		put_nfgen(nlh, rn(256), rnd32() & 0xffff);
	else
		put_nfgen(nlh, chance(80) ? AF_UNSPEC : AF_INET, 0);

	if (chance(50)) {
		/* well formed: bind or unbind of a pool queue */
		bool bind = chance(55);

		if (chance(85))
			mnl_attr_put_u16(nlh, CTA_EVQ_NUM,
					 htons(bind ? pick_bind_queue()
						    : pick_unbind_queue()));
		mnl_attr_put_u8(nlh, CTA_EVQ_CMD,
				bind ? CTNL_EVQ_CMD_BIND : CTNL_EVQ_CMD_UNBIND);
		if (bind && chance(40))
			mnl_attr_put_u32(nlh, CTA_EVQ_EVENTS,
					 htonl(chance(80) ? 1 + rn(CTNL_EVQ_EV_ALL)
							  : pick_events()));
		if (bind && chance(15))
			mnl_attr_put_u32(nlh, CTA_EVQ_FLAGS,
					 htonl(chance(50) ? 0 : pick_flags32()));
	} else {
		/* each attribute: absent, right, wrong length, repeated;
		 * in random order */
		int order[4] = { CTA_EVQ_NUM, CTA_EVQ_CMD, CTA_EVQ_EVENTS,
				 CTA_EVQ_FLAGS };

		if (chance(30))
			for (int i = 3; i > 0; i--) {
				int j = rn(i + 1), t = order[i];

				order[i] = order[j];
				order[j] = t;
			}
		for (int i = 0; i < 4; i++) {
			int a = order[i], reps;
			unsigned int absent = a == CTA_EVQ_NUM ? 12 :
					      a == CTA_EVQ_CMD ? 12 : 50;

			if (chance(absent))
				continue;
			reps = chance(10) ? 2 + rn(2) : 1;
			while (reps--) {
				switch (a) {
				case CTA_EVQ_NUM:
					put_int_attr(nlh, a, fuzz_len(2, 15),
						     chance(10) ? rnd64() :
						     pick_queue());
					break;
				case CTA_EVQ_CMD:
					put_int_attr(nlh, a, fuzz_len(1, 15),
						     pick_cmd());
					break;
				case CTA_EVQ_EVENTS:
					put_int_attr(nlh, a, fuzz_len(4, 15),
						     pick_events());
					break;
				case CTA_EVQ_FLAGS:
					put_int_attr(nlh, a, fuzz_len(4, 15),
						     pick_flags32());
					break;
				}
			}
		}
		if (chance(15))
			put_unknown_attrs(nlh, CTA_EVQ_MAX);
		if (chance(3)) {
			/* an attribute running past the message end */
			struct nlattr *na = mnl_nlmsg_get_payload_tail(nlh);

			na->nla_type = CTA_EVQ_NUM;
			na->nla_len = 8 + rn(64);
			memset(na + 1, 0, 4);
			nlh->nlmsg_len += 4 + rn(4);
		}
	}
	msg_end(d, nlh);
}

/* a trailing fragment that ends the datagram: no answer */
static void gen_tail(struct dgram *d)
{
	char *p = d->buf + d->len;
	unsigned int l;

	d->m[d->n].off = d->len;
	d->m[d->n].seq = seq_next++;
	d->m[d->n].expect = EXP_NONE;
	d->m[d->n].got = 0;
	d->m[d->n].kind = K_TAIL;
	if (chance(50)) {
		/* less than a header */
		l = 1 + rn(NLMSG_HDRLEN - 1);
		for (unsigned int i = 0; i < l; i++)
			p[i] = rnd32();
	} else {
		/* a header claiming more than there is */
		struct nlmsghdr *nlh = (struct nlmsghdr *)p;

		l = NLMSG_HDRLEN + rn(8);
		memset(p, 0, l);
		nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) |
				  IPCTNL_MSG_CT_EVQ_CFG;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
		nlh->nlmsg_seq = d->m[d->n].seq;
		nlh->nlmsg_len = chance(20) ? rn(NLMSG_HDRLEN) : l + 1 + rn(200);
	}
	d->m[d->n].len = l;
	d->len += l;
	d->n++;
	n_uncounted++;
}

static struct recent recents[MAX_SOCKS];

/* conntrack flush (IPCTNL_MSG_CT_DELETE without a tuple): every entry's
 * DESTROY goes to the queues it is subscribed to */
static void gen_ct_flush(struct dgram *d)
{
	struct nlmsghdr *nlh;

	nlh = msg_start(d, (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE,
			NLM_F_REQUEST | NLM_F_ACK, K_CTFLUSH);
	put_nfgen(nlh, AF_UNSPEC, 0);
	msg_end(d, nlh);
}

static void build_cfg_dgram(struct dgram *d)
{
	int n;

	cur_recent = &recents[d->s->idx];

	switch (rn(10)) {
	case 0: n = 1 + rn(4); break;
	case 1: n = 100 + rn(100); break;
	default: n = 20 + rn(60); break;
	}
	while (n-- && !dgram_full(d)) {
		if (chance(1) && chance(30))
			gen_ct_flush(d);
		else
			gen_cfg(d);
	}
	cur_recent = NULL;
	if (chance(4))
		gen_tail(d);
}

/* ---- nf_tables batches ---- */

struct chain_ref {
	uint8_t family;
	const char *chain;
};

static const struct chain_ref chains[] = {
	{ NFPROTO_INET, "post" }, { NFPROTO_INET, "post" },
	{ NFPROTO_INET, "post" }, { NFPROTO_INET, "pre" },
	{ NFPROTO_INET, "aux" }, { NFPROTO_INET, "ing" },
	{ NFPROTO_IPV4, "out" }, { NFPROTO_BRIDGE, "br" },
	{ NFPROTO_NETDEV, "nd" },
};
#define NCHAINS (sizeof(chains) / sizeof(chains[0]))

static void put_batch_marker(struct dgram *d, uint16_t type, uint8_t kind)
{
	struct nlmsghdr *nlh = msg_start(d, type, NLM_F_REQUEST, kind);

	put_nfgen(nlh, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
	d->m[d->n].expect = EXP_MAYBE;
	msg_end(d, nlh);
}

static struct nlmsghdr *nft_msg(struct dgram *d, uint16_t type,
				uint16_t flags, uint8_t family, uint8_t kind)
{
	struct nlmsghdr *nlh;

	nlh = msg_start(d, (NFNL_SUBSYS_NFTABLES << 8) | type,
			NLM_F_REQUEST | NLM_F_ACK | flags, kind);
	put_nfgen(nlh, family, 0);
	return nlh;
}

static struct nlattr *expr_begin(struct nlmsghdr *nlh, const char *name,
				 struct nlattr **data)
{
	struct nlattr *elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);

	mnl_attr_put_strz(nlh, NFTA_EXPR_NAME, name);
	*data = mnl_attr_nest_start(nlh, NFTA_EXPR_DATA);
	return elem;
}

static void expr_end(struct nlmsghdr *nlh, struct nlattr *elem,
		     struct nlattr *data)
{
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, elem);
}

static void expr_simple(struct nlmsghdr *nlh, const char *name)
{
	struct nlattr *e, *data;

	e = expr_begin(nlh, name, &data);
	expr_end(nlh, e, data);
}

static void expr_jump(struct nlmsghdr *nlh, const char *chain)
{
	struct nlattr *e, *data, *d, *v;

	e = expr_begin(nlh, "immediate", &data);
	mnl_attr_put_u32(nlh, NFTA_IMMEDIATE_DREG, htonl(NFT_REG_VERDICT));
	d = mnl_attr_nest_start(nlh, NFTA_IMMEDIATE_DATA);
	v = mnl_attr_nest_start(nlh, NFTA_DATA_VERDICT);
	mnl_attr_put_u32(nlh, NFTA_VERDICT_CODE, htonl((uint32_t)NFT_JUMP));
	mnl_attr_put_strz(nlh, NFTA_VERDICT_CHAIN, chain);
	mnl_attr_nest_end(nlh, v);
	mnl_attr_nest_end(nlh, d);
	expr_end(nlh, e, data);
}

/* a 32-bit immediate into @reg */
static void expr_imm32(struct nlmsghdr *nlh, uint32_t reg, uint32_t val)
{
	struct nlattr *e, *data, *d;

	e = expr_begin(nlh, "immediate", &data);
	mnl_attr_put_u32(nlh, NFTA_IMMEDIATE_DREG, htonl(reg));
	d = mnl_attr_nest_start(nlh, NFTA_IMMEDIATE_DATA);
	mnl_attr_put(nlh, NFTA_DATA_VALUE, sizeof(val), &val);
	mnl_attr_nest_end(nlh, d);
	expr_end(nlh, e, data);
}

/* a register for the queue number: mostly valid ones (NFT_REG_1..4,
 * NFT_REG32_00..15), else the verdict register, holes and large values */
static uint64_t pick_sreg(void)
{
	switch (rn(10)) {
	case 0: return 0;
	case 1: return 5 + rn(3);
	case 2: return 24 + rn(8);
	case 3: return rnd64();
	case 4: case 5: return 1 + rn(4);
	default: return 8 + rn(16);
	}
}

/* a valid ctevent expression */
static void expr_ctevent_valid(struct nlmsghdr *nlh)
{
	struct nlattr *e, *data;
	uint16_t num = chance(80) ? rn(6) : 65535 - rn(4);
	uint16_t total = 1 + rn(3);

	if (chance(25)) {
		/* the queue number from a register: sometimes one above
		 * 65535, which the kernel counts and does not subscribe */
		uint32_t reg = 8 + rn(16);

		expr_imm32(nlh, reg, chance(90) ? rn(6) : 65536 + rn(4));
		e = expr_begin(nlh, "ctevent", &data);
		mnl_attr_put_u32(nlh, NFTA_CTEVENT_SREG_QNUM, htonl(reg));
		if (chance(30))
			mnl_attr_put_u16(nlh, NFTA_CTEVENT_FLAGS,
					 htons(NFT_CTEVENT_F_BYPASS));
		expr_end(nlh, e, data);
		return;
	}
	if (num + total - 1 > 65535)
		total = 65536 - num;
	e = expr_begin(nlh, "ctevent", &data);
	mnl_attr_put_u16(nlh, NFTA_CTEVENT_NUM, htons(num));
	if (total > 1 || chance(30))
		mnl_attr_put_u16(nlh, NFTA_CTEVENT_TOTAL, htons(total));
	if (chance(30))
		mnl_attr_put_u16(nlh, NFTA_CTEVENT_FLAGS,
				 htons(chance(70) ? NFT_CTEVENT_F_BYPASS : 0));
	expr_end(nlh, e, data);
}

/* A rule holds every queue of its range: whole-range rules are valid but
 * allocate up to 65535 queues (seconds on a debug kernel under TCG), so
 * they come very rarely; ranges that wrap come often. */
static uint64_t pick_total(uint32_t num)
{
	if (!rn(1000))
		return 65536 - num;			/* just fits */
	switch (rn(12)) {
	case 0: return 0;
	case 1: return 17 + rn(8);
	case 2: return num ? 65535 : 0;			/* wraps, or empty */
	case 3: return rnd32() & 0xfff;
	case 4: return 65536 - num + 1 + rn(3);		/* wraps */
	case 5: return 16;
	default: return 1 + rn(4);
	}
}

static uint64_t pick_ctflags(void)
{
	switch (rn(8)) {
	case 0: return rnd32() & 0xffff;
	case 1: return 1u << rn(16);
	case 2: return 2;
	case 3: case 4: return NFT_CTEVENT_F_BYPASS;
	default: return 0;
	}
}

/* a fuzzed ctevent expression */
static void expr_ctevent_fuzz(struct nlmsghdr *nlh)
{
	struct nlattr *e, *data = NULL, *elem;
	uint32_t num = pick_queue();

	if (chance(4)) {
		/* no NFTA_EXPR_DATA at all */
		elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
		mnl_attr_put_strz(nlh, NFTA_EXPR_NAME, "ctevent");
		mnl_attr_nest_end(nlh, elem);
		return;
	}
	e = expr_begin(nlh, "ctevent", &data);
	if (!chance(12)) {	/* else: missing NUM */
		int reps = chance(8) ? 2 : 1;

		while (reps--)
			put_int_attr(nlh, NFTA_CTEVENT_NUM, fuzz_len(2, 12),
				     chance(10) ? rnd64() : num);
	}
	if (chance(55)) {
		int reps = chance(8) ? 2 : 1;

		while (reps--)
			put_int_attr(nlh, NFTA_CTEVENT_TOTAL, fuzz_len(2, 12),
				     pick_total(num));
	}
	if (chance(40)) {
		int reps = chance(8) ? 2 : 1;

		while (reps--)
			put_int_attr(nlh, NFTA_CTEVENT_FLAGS, fuzz_len(2, 12),
				     pick_ctflags());
	}
	if (chance(20)) {
		int reps = chance(8) ? 2 : 1;

		/* alone, or with NUM and TOTAL, which it excludes */
		while (reps--)
			put_int_attr(nlh, NFTA_CTEVENT_SREG_QNUM,
				     fuzz_len(4, 12), pick_sreg());
	}
	if (chance(12))
		put_unknown_attrs(nlh, NFTA_CTEVENT_MAX);
	if (chance(3)) {
		/* a nested attribute where a u16 belongs */
		struct nlattr *n = mnl_attr_nest_start(nlh, NFTA_CTEVENT_NUM);

		mnl_attr_put_u16(nlh, NFTA_CTEVENT_NUM, htons(num));
		mnl_attr_nest_end(nlh, n);
	}
	expr_end(nlh, e, data);
}

static void put_rule_target(struct nlmsghdr *nlh, const struct chain_ref *c)
{
	mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, TABLE);
	mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, c->chain);
}

static void gen_newrule(struct dgram *d, bool valid)
{
	const struct chain_ref *c = &chains[valid && chance(80) ? 0 : rn(NCHAINS)];
	uint16_t flags = NLM_F_CREATE | NLM_F_APPEND;
	struct nlmsghdr *nlh;
	struct nlattr *list;
	int nexpr;

	if (!valid && chance(5))
		flags = chance(50) ? NLM_F_CREATE : NLM_F_REPLACE;
	nlh = nft_msg(d, NFT_MSG_NEWRULE, flags, c->family, K_NEWRULE);
	put_rule_target(nlh, c);
	if (flags & NLM_F_REPLACE)
		mnl_attr_put_u64(nlh, NFTA_RULE_HANDLE, htobe64(1 + rn(100000)));
	list = mnl_attr_nest_start(nlh, NFTA_RULE_EXPRESSIONS);
	if (chance(20))
		expr_simple(nlh, "counter");
	nexpr = chance(15) ? 2 + rn(3) : 1;
	while (nexpr--) {
		if (valid || chance(15))
			expr_ctevent_valid(nlh);
		else
			expr_ctevent_fuzz(nlh);
	}
	if (chance(3) && strcmp(c->chain, "aux") &&
	    c->family == NFPROTO_INET)
		expr_jump(nlh, "aux");	/* validates aux from this hook */
	if (chance(10))
		expr_simple(nlh, "counter");
	mnl_attr_nest_end(nlh, list);
	msg_end(d, nlh);
}

static void gen_delrule(struct dgram *d)
{
	const struct chain_ref *c = &chains[rn(NCHAINS)];
	struct nlmsghdr *nlh;
	bool flush = chance(70);

	nlh = nft_msg(d, NFT_MSG_DELRULE, 0, c->family,
		      flush ? K_FLUSH : K_DELRULE);
	put_rule_target(nlh, c);
	if (!flush)	/* handles are small numbers: some exist */
		mnl_attr_put_u64(nlh, NFTA_RULE_HANDLE, htobe64(1 + rn(64)));
	msg_end(d, nlh);
}

static void gen_table_chain(struct dgram *d, uint8_t family, const char *name,
			    int hook, int prio, const char *dev)
{
	struct nlmsghdr *nlh;

	nlh = nft_msg(d, NFT_MSG_NEWCHAIN, NLM_F_CREATE, family, K_NEWCHAIN);
	mnl_attr_put_strz(nlh, NFTA_CHAIN_TABLE, TABLE);
	mnl_attr_put_strz(nlh, NFTA_CHAIN_NAME, name);
	if (hook >= 0) {
		struct nlattr *h = mnl_attr_nest_start(nlh, NFTA_CHAIN_HOOK);

		mnl_attr_put_u32(nlh, NFTA_HOOK_HOOKNUM, htonl(hook));
		mnl_attr_put_u32(nlh, NFTA_HOOK_PRIORITY,
				 htonl((uint32_t)prio));
		if (dev)
			mnl_attr_put_strz(nlh, NFTA_HOOK_DEV, dev);
		mnl_attr_nest_end(nlh, h);
		mnl_attr_put_u32(nlh, NFTA_CHAIN_POLICY, htonl(NF_ACCEPT));
		mnl_attr_put_strz(nlh, NFTA_CHAIN_TYPE, "filter");
	}
	msg_end(d, nlh);
}

static void gen_table(struct dgram *d, uint8_t family, bool del)
{
	struct nlmsghdr *nlh;

	nlh = nft_msg(d, del ? NFT_MSG_DELTABLE : NFT_MSG_NEWTABLE,
		      del ? 0 : NLM_F_CREATE, family,
		      del ? K_DELTABLE : K_NEWTABLE);
	mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, TABLE);
	msg_end(d, nlh);
}

/* (re)creation of the fuzzer's tables and chains, as batch messages */
/* part 0: inet and ip tables; 1: inet ingress chain (needs a device);
 * 2: bridge table; 3: netdev table (the "ctevent" expression refuses
 * the netdev family and the ingress hook) */
#define SETUP_PARTS 4
static void gen_setup(struct dgram *d, int part)
{
	switch (part) {
	case 0:
		gen_table(d, NFPROTO_INET, false);
		gen_table_chain(d, NFPROTO_INET, "post", NF_INET_POST_ROUTING,
				0, NULL);
		gen_table_chain(d, NFPROTO_INET, "pre", NF_INET_PRE_ROUTING,
				-300, NULL);
		gen_table_chain(d, NFPROTO_INET, "aux", -1, 0, NULL);
		gen_table(d, NFPROTO_IPV4, false);
		gen_table_chain(d, NFPROTO_IPV4, "out", NF_INET_LOCAL_OUT, 0,
				NULL);
		break;
	case 1:
		gen_table_chain(d, NFPROTO_INET, "ing", 5 /* NF_INET_INGRESS */,
				0, "lo");
		break;
	case 2:
		gen_table(d, NFPROTO_BRIDGE, false);
		gen_table_chain(d, NFPROTO_BRIDGE, "br", 4 /* NF_BR_POST_ROUTING */,
				0, NULL);
		break;
	case 3:
		gen_table(d, NFPROTO_NETDEV, false);
		gen_table_chain(d, NFPROTO_NETDEV, "nd", NF_NETDEV_INGRESS, 0,
				"lo");
		break;
	}
}

static void build_nft_dgram(struct dgram *d, int setup)
{
	unsigned int r = rn(100);
	bool broken = false, no_end = false;
	int n;

	put_batch_marker(d, NFNL_MSG_BATCH_BEGIN, K_BEGIN);
	if (setup >= 0) {
		gen_setup(d, setup);
		goto end;
	}
	if (r < 3) {
		/* tables away and back: every rule's destroy path */
		static const uint8_t fam[] = { NFPROTO_INET, NFPROTO_IPV4,
					       NFPROTO_BRIDGE, NFPROTO_NETDEV };

		for (unsigned int i = 0; i < sizeof(fam); i++)
			gen_table(d, fam[i], true);
		for (int i = 0; i < SETUP_PARTS; i++)
			gen_setup(d, i);
		goto end;
	}
	if (r < 25) {
		/* valid: commits */
		n = 1 + rn(4);
		if (chance(30))
			gen_delrule(d);
		while (n--)
			gen_newrule(d, true);
		goto end;
	}
	n = 1 + rn(40);
	while (n-- && !dgram_full(d)) {
		if (chance(8))
			gen_delrule(d);
		else
			gen_newrule(d, chance(10));
	}
	if (chance(3))
		no_end = true;		/* aborted at the end of the datagram */
	else if (chance(2))
		broken = true;
end:
	if (broken) {
		/* a message with a truncated nfgenmsg: the batch is thrown
		 * away without a single answer */
		struct nlmsghdr *nlh = msg_start(d, (NFNL_SUBSYS_NFTABLES << 8) |
						 NFT_MSG_NEWRULE,
						 NLM_F_REQUEST | NLM_F_ACK,
						 K_BROKEN);

		nlh->nlmsg_len += rn(4);
		msg_end(d, nlh);
		for (int i = 0; i < d->n; i++) {
			if (d->m[i].expect == EXP_ONE)
				n_uncounted++;
			d->m[i].expect = EXP_NONE;
		}
		put_batch_marker(d, NFNL_MSG_BATCH_END, K_END);
		d->m[d->n - 1].expect = EXP_NONE;
		return;
	}
	if (!no_end)
		put_batch_marker(d, NFNL_MSG_BATCH_END, K_END);
}

/* ---- sending and checking ---- */

static void hexdump_msg(const struct dgram *d, int i)
{
	const unsigned char *p = (const unsigned char *)d->buf + d->m[i].off;

	fprintf(stderr, "  datagram %lu msg %d (%s) seq %u len %u:",
		dgram_no, i, kind_names[d->m[i].kind], d->seq0 + i,
		d->m[i].len);
	for (uint32_t j = 0; j < d->m[i].len && j < 512; j++)
		fprintf(stderr, "%s%02x", j % 32 ? "" : "\n   ", p[j]);
	fprintf(stderr, "\n");
}

static volatile sig_atomic_t watchdog_dgram;

static void on_alarm(int sig)
{
	char msg[160];
	int l;

	(void)sig;
	l = snprintf(msg, sizeof(msg),
		     PROG ": round stuck for %u s (datagram %lu): kernel hang?\n",
		     round_watchdog, (unsigned long)watchdog_dgram);
	if (write(2, msg, l) < 0)
		_exit(3);
	_exit(3);
}

static void send_dgram(struct dgram *d)
{
	ssize_t r;

	d->seq0 = d->m[0].seq;
	d->done = false;
	n_dgrams++;
	if (verbose || dgram_no == show_dgram)
		fprintf(stderr, "dgram %lu: sock %d, %d msgs, %zu bytes\n",
			dgram_no, (int)(d->s - socks), d->n, d->len);
	if (dgram_no == show_dgram)
		for (int i = 0; i < d->n; i++)
			hexdump_msg(d, i);
	for (size_t i = 0; i < d->len; i++)
		stream_hash = (stream_hash ^ (uint8_t)d->buf[i]) *
			      0x100000001b3ULL;
	r = sendto(d->s->fd, d->buf, d->len, 0,
		   (struct sockaddr *)&(struct sockaddr_nl){ .nl_family = AF_NETLINK },
		   sizeof(struct sockaddr_nl));
	if (r < 0) {
		fprintf(stderr, PROG ": datagram %lu: sendto: %s (%s)\n",
			dgram_no, strerror(errno), nl_errname(errno));
		exit(1);
	}
}

static struct pmsg *find_msg(struct dgram *d, uint32_t seq, int *idx)
{
	/* every message of a datagram has the next seq number */
	uint32_t i = seq - d->seq0;

	if (i >= (uint32_t)d->n || d->m[i].seq != seq)
		return NULL;
	*idx = i;
	return &d->m[i];
}

static void handle_answer(struct dgram *d, const struct nlmsghdr *nlh)
{
	const char *ext;
	struct pmsg *m;
	int err, idx;

	if (nlh->nlmsg_type != NLMSG_ERROR) {
		n_other++;
		return;
	}
	err = nl_ack_error(nlh, &ext);
	m = d ? find_msg(d, nlh->nlmsg_seq, &idx) : NULL;
	if (!m) {
		n_unexpected++;
		fprintf(stderr, PROG ": datagram %lu: answer for unknown seq %u (err %s)\n",
			dgram_no, nlh->nlmsg_seq, err ? nl_errname(err) : "0");
		return;
	}
	if (m->expect == EXP_MAYBE) {
		/* batch level error (commit failure, no memory) */
		n_batch_err++;
		if (verbose)
			fprintf(stderr, "  batch error %s%s%s\n", nl_errname(err),
				ext ? ": " : "", ext ? ext : "");
		return;
	}
	m->got++;
	if (m->expect == EXP_NONE || m->got > 1) {
		n_unexpected++;
		fprintf(stderr, PROG ": %s answer (%s) for a message:\n",
			m->got > 1 ? "second" : "unexpected",
			err ? nl_errname(err) : "ack");
		hexdump_msg(d, idx);
		return;
	}
	if (err) {
		n_err++;
		kind_err[m->kind]++;
		err_hist[err & 0xff]++;
	} else {
		n_ack++;
		kind_ack[m->kind]++;
	}
	if (verbose)
		fprintf(stderr, "  #%d %s: %s%s%s\n", idx, kind_names[m->kind],
			err ? nl_errname(err) : "ack", ext ? ": " : "",
			ext ? ext : "");
}

static int outstanding(const struct dgram *d)
{
	int n = 0;

	for (int i = 0; i < d->n; i++)
		if (d->m[i].expect == EXP_ONE && !d->m[i].got)
			n++;
	return n;
}

/* read what the socket has; wait if block and nothing is there */
static int recv_some(struct dgram *d, int timeout_ms)
{
	static char rx[RX_VLEN][RX_SIZE];
	struct mmsghdr mm[RX_VLEN];
	struct iovec iov[RX_VLEN];
	int fd = d->s->fd, n;

	for (int i = 0; i < RX_VLEN; i++) {
		iov[i].iov_base = rx[i];
		iov[i].iov_len = RX_SIZE;
		memset(&mm[i].msg_hdr, 0, sizeof(mm[i].msg_hdr));
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	for (;;) {
		n = recvmmsg(fd, mm, RX_VLEN, MSG_DONTWAIT, NULL);
		if (n >= 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == ENOBUFS) {
			/* events (with --udp) or answers lost; lost answers
			 * show up as missing */
			n_overrun++;
			continue;
		}
		if (errno != EAGAIN) {
			fprintf(stderr, PROG ": recvmmsg: %s\n", strerror(errno));
			exit(1);
		}
		if (!timeout_ms)
			return 0;
		{
			struct pollfd pfd = { .fd = fd, .events = POLLIN };
			int r = poll(&pfd, 1, timeout_ms);

			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				return -1;	/* timeout */
		}
	}
	for (int i = 0; i < n; i++) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)rx[i];
		int len = mm[i].msg_len;

		if (mm[i].msg_hdr.msg_flags & MSG_TRUNC)
			fprintf(stderr, PROG ": truncated answer\n");
		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len))
			handle_answer(d, nlh);
	}
	return n;
}

static void collect(struct dgram *d)
{
	int left;

	for (int i = 0; i < d->n; i++)
		if (d->m[i].expect == EXP_ONE)
			n_msgs++;
	while ((left = outstanding(d)) > 0) {
		if (recv_some(d, ANSWER_TIMEOUT_MS) < 0) {
			fprintf(stderr, PROG ": datagram %lu: %d of %d messages without an answer after %d ms:\n",
				dgram_no, left, d->n, ANSWER_TIMEOUT_MS);
			for (int i = 0, shown = 0; i < d->n; i++)
				if (d->m[i].expect == EXP_ONE && !d->m[i].got &&
				    shown++ < 8)
					hexdump_msg(d, i);
			n_missing += left;
			/* a late answer counts as unexpected */
			for (int i = 0; i < d->n; i++)
				if (d->m[i].expect == EXP_ONE && !d->m[i].got)
					d->m[i].expect = EXP_NONE;
			break;
		}
	}
	/* everything is queued during sendmsg(): catch stray extra answers */
	while (recv_some(d, 0) > 0)
		;
}

static struct dgram dgrams[MAX_SOCKS];

/* --udp: a few datagrams to ADDR between rounds, new conntrack entries for
 * the ctevent rules to subscribe (ports from a small set: entries are
 * reused, their number stays small) */
static int udp_fd = -1;
static struct sockaddr_storage udp_dst;
static socklen_t udp_dstlen;

static void udp_setup(const char *addr)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)&udp_dst;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&udp_dst;

	memset(&udp_dst, 0, sizeof(udp_dst));
	if (inet_pton(AF_INET, addr, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		udp_dstlen = sizeof(*a4);
	} else if (inet_pton(AF_INET6, addr, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		udp_dstlen = sizeof(*a6);
	} else {
		fprintf(stderr, PROG ": invalid --udp address '%s'\n", addr);
		exit(2);
	}
	udp_fd = socket(udp_dst.ss_family, SOCK_DGRAM, 0);
	if (udp_fd < 0) {
		perror(PROG ": socket");
		exit(1);
	}
}

static void udp_send(void)
{
	int n = 1 + rn(4);

	while (n--) {
		uint16_t port = htons(20000 + rn(32));

		if (udp_dst.ss_family == AF_INET)
			((struct sockaddr_in *)&udp_dst)->sin_port = port;
		else
			((struct sockaddr_in6 *)&udp_dst)->sin6_port = port;
		if (udp_fd >= 0 &&
		    sendto(udp_fd, "ctevq", 5, MSG_DONTWAIT,
			   (struct sockaddr *)&udp_dst, udp_dstlen) == 5)
			n_udp++;
	}
}

static void reset_dgram(struct dgram *d, struct fsock *s)
{
	d->s = s;
	d->len = 0;
	d->n = 0;
}

static void run_setup(void)
{
	struct dgram *d = &dgrams[0];

	/* a batch each: a part the kernel lacks fails alone */
	for (int part = 0; part < SETUP_PARTS; part++) {
		unsigned long e0 = n_err;

		reset_dgram(d, &socks[0]);
		build_nft_dgram(d, part);
		dgram_no++;
		send_dgram(d);
		collect(d);
		if (n_err != e0)
			fprintf(stderr, PROG ": setup part %d of the tables failed\n",
				part);
	}
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: " PROG " [--seed S] [--count N] [--sockets K] [--udp ADDR] [--show D]\n"
"       [--watchdog SECONDS] [--verbose]\n"
"  Sends at least N (default 10000) fuzzed IPCTNL_MSG_CT_EVQ_CFG messages and\n"
"  nf_tables batches with \"ctevent\" expressions from K (default 4, max %d)\n"
"  netlink sockets, all generated from seed S (default 1).  Every message\n"
"  must get exactly one answer.  Prints\n"
"    fuzz: N messages, E errors, A acks, M missing\n"
"  and exits 1 if an answer is missing or unexpected.\n"
"  --udp ADDR: also send UDP datagrams to ADDR (ports 20000-20031) between\n"
"  rounds, so that the ctevent rules subscribe conntrack entries.\n"
"  --show D: hexdump the messages of datagram D (numbered from 1, as in\n"
"  the watchdog's and the summary's datagram numbers).\n"
"  --watchdog SECONDS (default 30): exit 3 when a round of datagrams\n"
"  takes longer than this.\n", MAX_SOCKS);
}

/* a number argument, or exit 2; no sign at all, as strtoull() would wrap */
static unsigned long long parse_arg(const char *s, const char *what,
				    unsigned long long max)
{
	unsigned long long v;

	if (*s == '-' || !parse_num(s, 0, 0, max, &v)) {
		fprintf(stderr, PROG ": invalid %s '%s'\n", what, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'n' },
		{ "sockets", required_argument, NULL, 'k' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "udp", required_argument, NULL, 'u' },
		{ "show", required_argument, NULL, 'd' },
		{ "watchdog", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long long seed = 1, count = 10000;
	const char *udp_addr = NULL;
	struct timespec t0, t1, r0, r1;
	unsigned long slow_first = 0, slow_last = 0;
	double rt, slow_s = 0;
	struct sigaction sa;
	int opt;

	while ((opt = getopt_long(argc, argv, "s:n:k:vu:d:w:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			seed = parse_arg(optarg, "seed", ULLONG_MAX);
			break;
		case 'n':
			count = parse_arg(optarg, "count", 1ULL << 40);
			break;
		case 'k':
			nsocks = parse_arg(optarg, "socket count", MAX_SOCKS);
			if (nsocks < 1) {
				fprintf(stderr, PROG ": need at least one socket\n");
				return 2;
			}
			break;
		case 'v':
			verbose = true;
			break;
		case 'u':
			udp_addr = optarg;
			break;
		case 'd':
			show_dgram = parse_arg(optarg, "datagram number", ULONG_MAX);
			break;
		case 'w':
			round_watchdog = parse_arg(optarg, "watchdog", 3600);
			if (!round_watchdog) {
				fprintf(stderr, PROG ": the watchdog needs at least one second\n");
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
	if (optind < argc) {
		usage(stderr);
		return 2;
	}

	/* splitmix64 of the seed: never zero, nearby seeds far apart */
	{
		uint64_t z = seed + 0x9E3779B97F4A7C15ULL;

		z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
		z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
		rng = z ^ (z >> 31);
		if (!rng)
			rng = 0x9E3779B97F4A7C15ULL;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);

	if (udp_addr)
		udp_setup(udp_addr);
	for (int i = 0; i < nsocks; i++) {
		socks[i].idx = i;
		sock_open(&socks[i]);
	}

	alarm(round_watchdog);
	run_setup();

	while (n_msgs < count) {
		int k, first = rn(nsocks), used = 0;

		/* sometimes a socket goes away: NETLINK_URELEASE unbinds
		 * whatever it held */
		/* the same random numbers with or without --udp */
		if (chance(30))
			udp_send();
		if (chance(5)) {
			struct fsock *s = &socks[rn(nsocks)];

			sock_close(s);
			sock_open(s);
			n_sock_cycles++;
		}

		/* this round: datagrams from 1..K sockets, sent before any
		 * answer is read */
		k = 1 + (chance(40) ? rn(nsocks) : 0);
		for (int i = 0; i < k; i++) {
			struct dgram *d = &dgrams[used++];

			reset_dgram(d, &socks[(first + i) % nsocks]);
			if (chance(30))
				build_nft_dgram(d, -1);
			else
				build_cfg_dgram(d);
		}
		watchdog_dgram = dgram_no + 1;
		alarm(round_watchdog);
		clock_gettime(CLOCK_MONOTONIC, &r0);
		for (int i = 0; i < used; i++) {
			dgram_no++;
			send_dgram(&dgrams[i]);
		}
		dgram_no -= used;
		for (int i = 0; i < used; i++) {
			dgram_no++;
			collect(&dgrams[i]);
		}
		clock_gettime(CLOCK_MONOTONIC, &r1);
		rt = (r1.tv_sec - r0.tv_sec) + (r1.tv_nsec - r0.tv_nsec) / 1e9;
		if (rt > slow_s) {
			/* what to look at with --show when a kernel gets slow */
			slow_s = rt;
			slow_first = dgram_no - used + 1;
			slow_last = dgram_no;
		}
	}
	alarm(0);

	for (int i = 0; i < nsocks; i++)
		sock_close(&socks[i]);
	clock_gettime(CLOCK_MONOTONIC, &t1);

	fprintf(stderr, PROG ": seed %llu, stream %016" PRIx64 ", %lu datagrams, %lu socket reopens, %lu uncounted (no answer by design), %lu batch errors, %lu other messages (events), %lu overruns, %lu udp packets, %lu unexpected answers, %.1f s\n",
		seed, stream_hash, n_dgrams, n_sock_cycles, n_uncounted, n_batch_err,
		n_other, n_overrun, n_udp, n_unexpected,
		(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	fprintf(stderr, PROG ": slowest round: datagrams %lu-%lu, %.2f s\n",
		slow_first, slow_last, slow_s);
	fprintf(stderr, PROG ": answers (ack/error):");
	for (unsigned int i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++)
		if (kind_ack[i] || kind_err[i])
			fprintf(stderr, " %s=%lu/%lu", kind_names[i], kind_ack[i],
				kind_err[i]);
	fprintf(stderr, "\n");
	fprintf(stderr, PROG ": errors:");
	for (int i = 1; i < 256; i++)
		if (err_hist[i])
			fprintf(stderr, " %s=%lu", nl_errname(i), err_hist[i]);
	fprintf(stderr, "\n");
	printf("fuzz: %lu messages, %lu errors, %lu acks, %lu missing\n",
	       n_msgs, n_err, n_ack, n_missing);
	return n_missing || n_unexpected ? 1 : 0;
}
