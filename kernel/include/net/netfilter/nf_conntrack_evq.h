/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Conntrack event queues: the ruleset subscribes entries to numbered queues,
 * and their events reach the netlink socket bound to each queue by unicast.
 */
#ifndef _NF_CONNTRACK_EVQ_H
#define _NF_CONNTRACK_EVQ_H

#include <linux/bitfield.h>
#include <linux/jump_label_ratelimit.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_conntrack_extend.h>
#include <net/netfilter/nf_conntrack_ecache.h>

/* queues one entry can be subscribed to */
#define NF_CT_EVQ_PER_CT	4

/* A word of struct nf_conn_evq is 0 or one subscription (nf_conntrack_evq.c) */
#define NF_CT_EVQ_NUM		GENMASK(15, 0)
#define NF_CT_EVQ_COOKIE	GENMASK(29, 16)
#define NF_CT_EVQ_RETRY		BIT(30)
#define NF_CT_EVQ_USED		BIT(31)

struct nf_conn_evq {
	u32 sub[NF_CT_EVQ_PER_CT];
};

struct nf_ct_evq;
struct netlink_callback;
struct netlink_ext_ack;

/* ctnetlink lends the queues its event message builder and its socket */
struct nf_ct_evq_hook {
	struct sk_buff *(*build)(struct nf_conn *ct, unsigned int events,
				 u32 portid);
	int (*unicast)(struct sk_buff *skb, struct net *net, u32 portid);
};

#ifdef CONFIG_NF_CONNTRACK_EVENT_QUEUES
extern const struct nf_ct_evq_hook __rcu *nf_ct_evq_hook;
extern struct static_key_false_deferred nf_ct_evq_needed;

void nf_ct_evq_netns_get(struct net *net);
void nf_ct_evq_netns_put(struct net *net);

/* The extension is only added while a ruleset of the netns can subscribe
 * entries, and only to entries that report events at all.
 */
static inline bool nf_ct_evq_wanted(const struct net *net)
{
	return static_branch_unlikely(&nf_ct_evq_needed.key) &&
	       atomic_read(&nf_ct_pernet(net)->ecache.evq_users);
}

static inline struct nf_conn_evq *nf_ct_evq_find(const struct nf_conn *ct)
{
	return nf_ct_ext_find(ct, NF_CT_EXT_EVQ);
}

static inline void nf_ct_evq_ext_add(struct nf_conn *ct, gfp_t gfp)
{
	if (nf_ct_evq_wanted(nf_ct_net(ct)) && nf_ct_ecache_exist(ct))
		nf_ct_ext_add(ct, NF_CT_EXT_EVQ, gfp);
}

/* Is the entry subscribed to one of the queues @num .. @num + @total - 1? */
static inline bool nf_ct_evq_subscribed(const struct nf_conn_evq *evq,
					u16 num, unsigned int total)
{
	unsigned int i;

	for (i = 0; i < NF_CT_EVQ_PER_CT; i++) {
		u32 sub = READ_ONCE(evq->sub[i]);

		/* words are taken in order and never given back */
		if (!sub)
			break;
		if ((u16)(FIELD_GET(NF_CT_EVQ_NUM, sub) - num) < total)
			return true;
	}

	return false;
}

int nf_ct_evq_get(struct net *net, u16 num, unsigned int total,
		  struct nf_ct_evq **queues);
void nf_ct_evq_put(struct net *net, struct nf_ct_evq **queues,
		   unsigned int total);
bool nf_ct_evq_bound(const struct nf_ct_evq *q);
void nf_ct_evq_subscribe(struct nf_conn *ct, struct nf_conn_evq *evq,
			 struct nf_ct_evq *q);
void nf_ct_evq_noext(struct nf_ct_evq *q);
int nf_ct_evq_prepare(struct net *net);
void nf_ct_evq_subscribe_num(struct nf_conn *ct, struct nf_conn_evq *evq,
			     u32 num, bool bypass);

int nf_ct_evq_bind(struct net *net, u16 num, u32 portid, u64 ino, u32 events,
		   u32 flags, struct netlink_ext_ack *extack);
int nf_ct_evq_unbind(struct net *net, u16 num, u32 portid, u64 ino,
		     struct netlink_ext_ack *extack);
int nf_ct_evq_deliver(struct nf_conn *ct, struct nf_conn_evq *evq,
		      unsigned int events, struct sk_buff *skb,
		      bool multicast_ok);
bool nf_ct_evq_destroy_retried(const struct nf_conn_evq *evq);
int nf_ct_evq_dump(struct sk_buff *skb, struct netlink_callback *cb);

int nf_conntrack_evq_init(void);
void nf_conntrack_evq_fini(void);
void nf_conntrack_evq_pernet_fini(struct net *net);
#else
static inline bool nf_ct_evq_wanted(const struct net *net)
{
	return false;
}

static inline struct nf_conn_evq *nf_ct_evq_find(const struct nf_conn *ct)
{
	return NULL;
}

static inline void nf_ct_evq_ext_add(struct nf_conn *ct, gfp_t gfp)
{
}

static inline int nf_ct_evq_deliver(struct nf_conn *ct,
				    struct nf_conn_evq *evq,
				    unsigned int events, struct sk_buff *skb,
				    bool multicast_ok)
{
	return 0;
}

static inline bool nf_ct_evq_destroy_retried(const struct nf_conn_evq *evq)
{
	return false;
}

static inline int nf_conntrack_evq_init(void)
{
	return 0;
}

static inline void nf_conntrack_evq_fini(void)
{
}

static inline void nf_conntrack_evq_pernet_fini(struct net *net)
{
}
#endif /* CONFIG_NF_CONNTRACK_EVENT_QUEUES */
#endif /* _NF_CONNTRACK_EVQ_H */
