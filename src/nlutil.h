/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Netlink helpers shared by the ctevq userspace tools.
 */
#ifndef CTEVQ_NLUTIL_H
#define CTEVQ_NLUTIL_H

#include <stdint.h>
#include <linux/netlink.h>

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
 * Send one IPCTNL_MSG_CT_EVQ_CFG request (CMD on queue NUM; EVENTS, the
 * CTNL_EVQ_EV_* mask, only when nonzero) and wait for its ack, skipping
 * any event that arrives first.  Returns 0 or the positive errno.
 */
int evq_cfg(struct mnl_socket *nl, uint16_t num, uint8_t cmd, uint32_t events);

#endif /* CTEVQ_NLUTIL_H */
