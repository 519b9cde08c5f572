// SPDX-License-Identifier: GPL-2.0
/*
 * Netlink helpers shared by the ctevq userspace tools.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include "nlutil.h"

const char *nl_errname(int err)
{
	static char buf[32];
	const char *n = strerrorname_np(err);

	if (n)
		return n;
	snprintf(buf, sizeof(buf), "E%d", err);
	return buf;
}

static int extack_cb(const struct nlattr *attr, void *data)
{
	const char **msg = data;

	if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0)
		*msg = mnl_attr_get_str(attr);
	return MNL_CB_OK;
}

int nl_ack_error(const struct nlmsghdr *nlh, const char **extack)
{
	const struct nlmsgerr *err;
	unsigned int hlen;

	*extack = NULL;
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*err)))
		return EPROTO;
	err = mnl_nlmsg_get_payload(nlh);
	hlen = sizeof(*err);
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		hlen += err->msg.nlmsg_len - sizeof(struct nlmsghdr);
	if ((nlh->nlmsg_flags & NLM_F_ACK_TLVS) &&
	    mnl_nlmsg_size(hlen) <= nlh->nlmsg_len)
		mnl_attr_parse(nlh, hlen, extack_cb, extack);
	return -err->error;
}

struct nlmsghdr *nfnl_msg_put(void *buf, uint16_t type, uint16_t flags,
			      uint32_t seq, uint8_t family, uint16_t res_id)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = family;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(res_id);
	return nlh;
}

const char *tcp_state_name(uint8_t s)
{
	static const char *const names[] = {
		"NONE", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT",
		"CLOSE_WAIT", "LAST_ACK", "TIME_WAIT", "CLOSE", "SYN_SENT2",
	};
	static char buf[16];

	if (s < sizeof(names) / sizeof(names[0]))
		return names[s];
	snprintf(buf, sizeof(buf), "%u", s);
	return buf;
}
