/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the ctevq userspace tools: netlink messages and acks,
 * the queue config request, number parsing, the clock and the ready file.
 */
#ifndef CTEVQ_NLUTIL_H
#define CTEVQ_NLUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

/* Symbolic name of a positive errno ("EBUSY"), or "E<n>" if unknown. */
const char *nl_errname(int err);

/*
 * Decode an NLMSG_ERROR message.  Returns the positive errno it carries
 * (0 for a plain ack), or EPROTO if nlh is too short for a struct nlmsgerr.
 * *extack is set to the extended ack message (pointing into nlh) or NULL.
 */
int nl_ack_error(const struct nlmsghdr *nlh, const char **extack);

/*
 * Put an nfnetlink message header (nlmsghdr with TYPE, FLAGS and SEQ, then
 * the nfgenmsg with FAMILY, version 0 and RES_ID in network order) at BUF.
 */
struct nlmsghdr *nfnl_msg_put(void *buf, uint16_t type, uint16_t flags,
			      uint32_t seq, uint8_t family, uint16_t res_id);

/*
 * Name of a conntrack TCP state (CTA_PROTOINFO_TCP_STATE, the kernel's
 * enum tcp_conntrack): "ESTABLISHED", or the number if unknown.
 */
const char *tcp_state_name(uint8_t s);

struct mnl_socket;

/*
 * The attributes of an IPCTNL_MSG_CT_EVQ_CFG request.  Each has_* says
 * whether its attribute is sent at all: ctevq-listen --try leaves some out
 * on purpose, to see the kernel reject the request.
 */
struct evq_req {
	bool has_num, has_cmd, has_events, has_flags;
	uint16_t num;
	uint8_t cmd;
	uint32_t events;	/* CTNL_EVQ_EV_* */
	uint32_t flags;		/* CTNL_EVQ_F_* */
};

/*
 * Send REQ with NLM_F_ACK; *seq receives its sequence number for
 * evq_req_ack().  Returns 0, or -1 with errno set.
 */
int evq_req_send(struct mnl_socket *nl, const struct evq_req *req,
		 uint32_t *seq);

/*
 * A message read while waiting for an ack that is not the ack (on a queue
 * socket, an event racing the bind's ack), with the multicast groups of
 * its sender (0: unicast).
 */
typedef void (*evq_other_cb)(const struct nlmsghdr *nlh, uint32_t groups,
			     void *data);

/*
 * Wait for the ack of request SEQ, passing every other message read to CB
 * (if not NULL).  Returns the ack's positive errno (0: success), its
 * extended ack message copied to EXT (EXTLEN bytes; "" if none, EXT may be
 * NULL); or -1 with errno set if recv() failed, after which the caller may
 * call it again (after EINTR, ENOBUFS) to go on waiting.
 */
int evq_req_ack(struct mnl_socket *nl, uint32_t seq, char *ext,
		size_t extlen, evq_other_cb cb, void *data);

/*
 * Send one request (CMD on queue NUM; EVENTS, the CTNL_EVQ_EV_* mask, only
 * when nonzero) and wait for its ack, skipping any event that arrives
 * first.  Returns 0 or the positive errno.
 */
int evq_cfg(struct mnl_socket *nl, uint16_t num, uint8_t cmd, uint32_t events);

/*
 * Parse S, all of it, as a number from MIN to MAX in BASE (strtoll()'s: 0
 * takes 0x and 0 prefixes).  A negative number (MIN < 0) is stored in *OUT
 * in two's complement: cast it back.  Returns false for an empty S,
 * anything after the number, or a number out of range.  Where MAX does not
 * fit a long long, MIN must not be negative and a leading '-' is refused
 * (strtoull() would wrap it); elsewhere "-0" is 0, so callers that refuse
 * any sign check for it themselves.
 */
bool parse_num(const char *s, int base, long long min, unsigned long long max,
	       unsigned long long *out);

/* CLOCK_MONOTONIC in seconds. */
double now_mono(void);

/*
 * Create PATH (if not NULL) containing "ready", once the program is ready:
 * atomically (a rename), so that a script waiting for it never reads it
 * half written.  Returns 0, or -1 with errno set.
 */
int write_ready(const char *path);

#endif /* CTEVQ_NLUTIL_H */
