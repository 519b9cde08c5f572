// SPDX-License-Identifier: GPL-2.0
/*
 * Netlink helpers shared by the ctevq userspace tools.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include "ctevq_uapi.h"
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

int evq_cfg(struct mnl_socket *nl, uint16_t num, uint8_t cmd, uint32_t events)
{
	static uint32_t seq;
	char buf[MNL_SOCKET_BUFFER_SIZE];
	static char rx[65536];
	uint32_t portid = mnl_socket_get_portid(nl);
	struct nlmsghdr *nlh;
	int n;

	if (!seq)
		seq = (uint32_t)time(NULL);
	nlh = nfnl_msg_put(buf, (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_EVQ_CFG,
			   NLM_F_REQUEST | NLM_F_ACK, ++seq, AF_UNSPEC, 0);
	mnl_attr_put_u16(nlh, CTA_EVQ_NUM, htons(num));
	mnl_attr_put_u8(nlh, CTA_EVQ_CMD, cmd);
	if (events)
		mnl_attr_put_u32(nlh, CTA_EVQ_EVENTS, htonl(events));
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return errno;
	for (;;) {
		n = mnl_socket_recvfrom(nl, rx, sizeof(rx));
		if (n < 0)
			return errno;
		for (nlh = (struct nlmsghdr *)rx; mnl_nlmsg_ok(nlh, n);
		     nlh = mnl_nlmsg_next(nlh, &n)) {
			const char *msg;

			if (nlh->nlmsg_type == NLMSG_ERROR &&
			    nlh->nlmsg_seq == seq && nlh->nlmsg_pid == portid)
				return nl_ack_error(nlh, &msg);
		}
	}
}
