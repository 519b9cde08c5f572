/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Netlink error helpers shared by the ctevq userspace tools.
 */
#ifndef CTEVQ_NLERR_H
#define CTEVQ_NLERR_H

#include <linux/netlink.h>

/* Symbolic name of a positive errno ("EBUSY"), or "E<n>" if unknown. */
const char *nl_errname(int err);

/*
 * Decode an NLMSG_ERROR message.  Returns the positive errno it carries
 * (0 for a plain ack), or EPROTO if nlh is too short for a struct nlmsgerr.
 * *extack is set to the extended ack message (pointing into nlh) or NULL.
 */
int nl_ack_error(const struct nlmsghdr *nlh, const char **extack);

#endif /* CTEVQ_NLERR_H */
