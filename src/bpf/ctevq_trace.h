/* SPDX-License-Identifier: GPL-2.0 */
/* The record ctevq_trace.bpf.c writes to its ring buffer, one per event. */
#ifndef CTEVQ_TRACE_H
#define CTEVQ_TRACE_H

enum ctevq_trace_type {
	CTEVQ_TRACE_NEW = 1,
	CTEVQ_TRACE_UPDATE,
	CTEVQ_TRACE_DESTROY,
};

struct ctevq_trace_rec {
	__u64 packets[2];	/* acct: original, reply (with -a) */
	__u64 bytes[2];
	__u64 start, stop;	/* timestamp extension (with -a) */
	__u32 events;		/* IPCT_* bits the netlink path would report */
	__u32 status;
	__u32 mark;
	__u8 type;		/* enum ctevq_trace_type */
	__u8 l3;		/* AF_INET, AF_INET6 */
	__u8 proto;
	__u8 tcp_state;		/* valid if has_state */
	__u8 src[16], dst[16];
	__u16 sport, dport;	/* network byte order */
	__u8 has_state;		/* ctnetlink would carry the TCP state */
	__u8 pad[3];
};

#endif
