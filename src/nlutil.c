// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers shared by the ctevq userspace tools.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <sys/socket.h>
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

int evq_req_send(struct mnl_socket *nl, const struct evq_req *req,
		 uint32_t *seq)
{
	static uint32_t last_seq;
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	if (!last_seq)
		last_seq = (uint32_t)time(NULL);
	*seq = ++last_seq;
	nlh = nfnl_msg_put(buf, (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_EVQ_CFG,
			   NLM_F_REQUEST | NLM_F_ACK, *seq, AF_UNSPEC, 0);
	if (req->has_num)
		mnl_attr_put_u16(nlh, CTA_EVQ_NUM, htons(req->num));
	if (req->has_cmd)
		mnl_attr_put_u8(nlh, CTA_EVQ_CMD, req->cmd);
	if (req->has_events)
		mnl_attr_put_u32(nlh, CTA_EVQ_EVENTS, htonl(req->events));
	if (req->has_flags)
		mnl_attr_put_u32(nlh, CTA_EVQ_FLAGS, htonl(req->flags));
	return mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0 ? -1 : 0;
}

int evq_req_ack(struct mnl_socket *nl, uint32_t seq, char *ext,
		size_t extlen, evq_other_cb cb, void *data)
{
	/* a queue socket's first events may share the wait: room for them */
	static char rx[256 * 1024];
	uint32_t portid = mnl_socket_get_portid(nl);
	int fd = mnl_socket_get_fd(nl);
	struct nlmsghdr *nlh;

	if (ext && extlen)
		ext[0] = '\0';
	for (;;) {
		struct sockaddr_nl addr = { 0 };
		socklen_t alen = sizeof(addr);
		int n;

		/* recvfrom(), not mnl_socket_recvfrom(): CB wants the groups */
		n = recvfrom(fd, rx, sizeof(rx), 0, (struct sockaddr *)&addr,
			     &alen);
		if (n < 0)
			return -1;
		for (nlh = (struct nlmsghdr *)rx; mnl_nlmsg_ok(nlh, n);
		     nlh = mnl_nlmsg_next(nlh, &n)) {
			const char *msg;
			int err;

			if (nlh->nlmsg_type != NLMSG_ERROR) {
				if (cb)
					cb(nlh, addr.nl_groups, data);
				continue;
			}
			if (nlh->nlmsg_seq != seq || nlh->nlmsg_pid != portid)
				continue;
			err = nl_ack_error(nlh, &msg);
			if (msg && ext && extlen)
				snprintf(ext, extlen, "%s", msg);
			return err;
		}
	}
}

int evq_cfg(struct mnl_socket *nl, uint16_t num, uint8_t cmd, uint32_t events)
{
	const struct evq_req req = {
		.has_num = true, .num = num,
		.has_cmd = true, .cmd = cmd,
		.has_events = events != 0, .events = events,
	};
	uint32_t seq;
	int err;

	if (evq_req_send(nl, &req, &seq) < 0)
		return errno;
	err = evq_req_ack(nl, seq, NULL, 0, NULL, NULL);
	return err < 0 ? errno : err;
}

bool parse_num(const char *s, int base, long long min, unsigned long long max,
	       unsigned long long *out)
{
	unsigned long long v;
	char *end;

	if (!*s)
		return false;
	errno = 0;
	if (max > LLONG_MAX) {
		/* strtoull() would take "-1" for ULLONG_MAX */
		if (*s == '-')
			return false;
		v = strtoull(s, &end, base);
		if (errno || *end || v < (unsigned long long)min || v > max)
			return false;
	} else {
		long long sv = strtoll(s, &end, base);

		if (errno || *end || sv < min || sv > (long long)max)
			return false;
		v = sv;
	}
	*out = v;
	return true;
}

double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int write_ready(const char *path)
{
	char tmp[4096];
	FILE *f;

	if (!path)
		return 0;
	/* the pid: two programs given the same file do not share a tmp */
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	if (fputs("ready\n", f) < 0) {
		fclose(f);
		return -1;
	}
	if (fclose(f) || rename(tmp, path))
		return -1;
	return 0;
}
