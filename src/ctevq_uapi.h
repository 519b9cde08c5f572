/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The UAPI this project adds to the kernel, for userspace built against
 * distribution headers that predate it.  Must match the kernel series
 * (include/uapi/linux/netfilter/nfnetlink_conntrack.h and nf_tables.h).
 */
#ifndef CTEVQ_UAPI_H
#define CTEVQ_UAPI_H

#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netfilter/nf_tables.h>

/* ctnetlink messages: bind/unbind a conntrack event queue (answered by an
 * ack, NLM_F_ACK), and dump the queues of the netns with their counters. */
#define IPCTNL_MSG_CT_EVQ_CFG	8
#define IPCTNL_MSG_CT_EVQ_GET	9

enum ctattr_evq {
	CTA_EVQ_UNSPEC,
	CTA_EVQ_NUM,		/* be16: queue number */
	CTA_EVQ_CMD,		/* u8: enum ctnl_evq_cmd */
	CTA_EVQ_EVENTS,		/* be32: CTNL_EVQ_EV_*, default all */
	CTA_EVQ_FLAGS,		/* be32: CTNL_EVQ_F_* */
	CTA_EVQ_PORTID,		/* be32: bound socket, 0 if none (dump) */
	CTA_EVQ_STATS,		/* nested: enum ctattr_evq_stats (dump) */
	CTA_EVQ_PAD,
	__CTA_EVQ_MAX
};
#define CTA_EVQ_MAX (__CTA_EVQ_MAX - 1)

enum ctattr_evq_stats {
	CTA_EVQ_STATS_UNSPEC,
	CTA_EVQ_STATS_DELIVERED,	/* be64 */
	CTA_EVQ_STATS_UNBOUND,
	CTA_EVQ_STATS_LOST,
	CTA_EVQ_STATS_OVERFLOW,
	CTA_EVQ_STATS_NOEXT,
	CTA_EVQ_STATS_PAD,
	__CTA_EVQ_STATS_MAX
};
#define CTA_EVQ_STATS_MAX (__CTA_EVQ_STATS_MAX - 1)

enum ctnl_evq_cmd {
	CTNL_EVQ_CMD_UNSPEC,
	CTNL_EVQ_CMD_BIND,
	CTNL_EVQ_CMD_UNBIND,
};

#define CTNL_EVQ_EV_NEW		(1 << 0)
#define CTNL_EVQ_EV_UPDATE	(1 << 1)
#define CTNL_EVQ_EV_DESTROY	(1 << 2)
#define CTNL_EVQ_EV_ALL		(CTNL_EVQ_EV_NEW | CTNL_EVQ_EV_UPDATE | \
				 CTNL_EVQ_EV_DESTROY)

#define CTNL_EVQ_F_RELIABLE	(1 << 0)

/* nf_tables expression "ctevent" */
enum nft_ctevent_attributes {
	NFTA_CTEVENT_UNSPEC,
	NFTA_CTEVENT_NUM,	/* NLA_U16: first queue number */
	NFTA_CTEVENT_TOTAL,	/* NLA_U16: number of queues (range) */
	NFTA_CTEVENT_FLAGS,	/* NLA_U16: NFT_CTEVENT_F_* */
	NFTA_CTEVENT_SREG_QNUM,	/* NLA_U32: register holding the queue number */
	__NFTA_CTEVENT_MAX
};
#define NFTA_CTEVENT_MAX (__NFTA_CTEVENT_MAX - 1)

/* subscribe only while a listener is bound to the selected queue */
#define NFT_CTEVENT_F_BYPASS	(1 << 0)
#define NFT_CTEVENT_F_MASK	NFT_CTEVENT_F_BYPASS

#endif /* CTEVQ_UAPI_H */
