// SPDX-License-Identifier: GPL-2.0-only
/*
 * Conntrack event queues.
 *
 * The ruleset subscribes entries to numbered queues (nft "ct event queue");
 * the events of a subscribed entry then also go, by netlink unicast, to the
 * ctnetlink socket bound to each of its queues.  Multicast is unchanged.
 *
 * Queues
 *
 *   A queue exists in a netns while rules refer to its number
 *   (nf_ct_evq_get()) or a socket is bound to it.  The queues of a netns
 *   are in an XArray indexed by number (nfnetlink_queue's 16-bucket hash
 *   would grow chains of thousands: a rule naming a range holds every
 *   queue of it), created with the first queue and freed with the netns.
 *   Lookups are RCU; creation, binding and release take the netns's
 *   ecache.evq_mutex, nothing global.  A released queue is erased and then
 *   marked dead under its lock, and freed after a grace period.
 *
 *   The queues a socket bound are also listed by its portid, which is all
 *   NETLINK_URELEASE tells, so that a closing socket releases its own
 *   queues and looks at no other.  Netlink frees the portid before it
 *   sends that notification: another socket can get the portid and bind
 *   meanwhile.  The inode number of the binding socket tells the two
 *   apart: the new socket takes the portid's entry over, releasing what
 *   the old one had bound, and the old socket's notification, still to
 *   come, is counted as stale and leaves the new socket's queues alone.
 *
 *   q->lock protects the binding (portid, cookie, events, flags) and is
 *   held while anything is sent to the queue, so a delivery never uses a
 *   binding that was changed or released before it, and the per-entry
 *   words below change for one queue at a time.  It nests inside the
 *   event path's locks (the event cache's dying_lock).
 *
 * Subscriptions
 *
 *   Each word of an entry's struct nf_conn_evq is 0 (free) or
 *   NF_CT_EVQ_USED | cookie | queue number.  Words are taken in order with
 *   cmpxchg() and never given back, so a queue is in one word at most.
 *
 *   The cookie tells which binding of the queue got the entry's NEW: each
 *   bind takes the netns's next cookie, from 1 to NF_CT_EVQ_COOKIE_LAST.
 *   As long as the word does not hold the cookie of the current binding,
 *   the queue's next message for the entry is a NEW carrying the entry's
 *   full state, sent instead of an update (which it contains), or before a
 *   DESTROY.  So a listener's first message for an entry is its NEW
 *   whether it bound before or after the subscription, after a NEW was
 *   lost to a full receive buffer, and after another socket had the queue.
 *   This does not apply to listeners that do not want NEW messages, nor to
 *   entries whose event mask ("ct event set") excludes them.  Cookies wrap
 *   after NF_CT_EVQ_COOKIE_LAST binds in a netns.  NF_CT_EVQ_COOKIE_DONE
 *   means that the queue had the entry's DESTROY: nothing more is sent.
 *
 *   An unconfirmed entry has no events yet: the NEW of its confirmation is
 *   its queues' first message.  A confirmed entry is sent its NEW when it
 *   is subscribed, after the events its packet cached so far went to the
 *   listeners it had before, so that a queue sees the same stream whether
 *   the rule runs before or after the confirmation.
 *
 *   nf_ct_delete() sets IPS_DYING before it reports DESTROY, and the
 *   subscriber takes its word before it looks at IPS_DYING (both full
 *   barriers): either the DESTROY sees the new word, or the subscriber sees
 *   the entry dying.  A NEW is never sent to a dying entry's queue except
 *   together with the DESTROY, under q->lock, so every queue that had a NEW
 *   gets the DESTROY.
 *
 *   A queue bound with CTNL_EVQ_F_RELIABLE does not lose DESTROY events:
 *   when its listener cannot take one (or the NEW before it), the word
 *   stays, the notifier fails, and the entry waits on the event cache's
 *   dying list for the DESTROY to be reported again (by the event cache
 *   worker), until the listener takes it or goes away.  NF_CT_EVQ_RETRY
 *   marks such a word when the multicast listeners had the DESTROY, so
 *   that the report again is for the queues only.
 */

#include <linux/export.h>
#include <linux/jump_label_ratelimit.h>
#include <linux/netlink.h>
#include <linux/notifier.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <linux/xarray.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <net/netlink.h>
#include <net/sock.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_conntrack_ecache.h>
#include <net/netfilter/nf_conntrack_evq.h>

#define NF_CT_EVQ_COOKIE_DONE	FIELD_MAX(NF_CT_EVQ_COOKIE)
#define NF_CT_EVQ_COOKIE_LAST	(NF_CT_EVQ_COOKIE_DONE - 1)

/* everything but DESTROY: the whole state of an entry */
#define NF_CT_EVQ_FULL_STATE	(GENMASK(__IPCT_MAX - 1, 0) & \
				 ~BIT(IPCT_DESTROY))

#define CTNL_EVQ_F_MASK		CTNL_EVQ_F_RELIABLE

struct nf_ct_evq_stats {
	u64	delivered;	/* messages queued to the listener */
	u64	unbound;	/* dropped: no listener bound */
	u64	lost;		/* dropped: receive buffer full, no memory */
	u64	overflow;	/* not subscribed: NF_CT_EVQ_PER_CT queues */
	u64	noext;		/* not subscribed: entry has no extension */
};

/* The counters of what is sent are kept under the lock every delivery to
 * the queue holds anyway: per-cpu counters would save no cache line and
 * cost memory per queue and CPU, where a rule with a range holds
 * thousands of queues.  Those of the packet path need no lock.
 */
struct nf_ct_evq {
	struct nf_ct_evq_net	*evqnet;
	/* under the netns's evq_mutex */
	unsigned int		rules;
	struct nf_ct_evq_sock	*sock;		/* the bound socket's */
	struct list_head	sock_node;	/* in sock->queues */
	u16			num;

	spinlock_t		lock;		/* binding, sending, counters */
	bool			dead;
	u8			events;		/* CTNL_EVQ_EV_* */
	u16			cookie;
	u32			flags;		/* CTNL_EVQ_F_* */
	u32			portid;		/* 0: unbound */
	u64			delivered;
	u64			unbound;
	u64			lost;

	atomic64_t		overflow;
	atomic64_t		noext;

	struct rcu_head		rcu;
};

/* The queues one socket has bound; it lives until that socket's
 * NETLINK_URELEASE.
 */
struct nf_ct_evq_sock {
	u64			ino;		/* the socket's */
	unsigned int		stale;		/* URELEASEs of earlier sockets */
	struct list_head	queues;
};

struct nf_ct_evq_net {
	struct mutex		*mutex;		/* the netns's evq_mutex */
	struct xarray		queues;		/* by number */
	struct xarray		socks;		/* by portid */
	u16			cookie;
	bool			exiting;
	/* not subscribed: a register held a number above U16_MAX */
	atomic64_t		invalid;
	struct proc_dir_entry	*proc;
	struct proc_dir_entry	*proc_invalid;
	struct rcu_head		rcu;
};

const struct nf_ct_evq_hook __rcu *nf_ct_evq_hook __read_mostly;
EXPORT_SYMBOL_GPL(nf_ct_evq_hook);

/* Enabled while some netns can subscribe entries, so that other hosts pay
 * nothing when conntrack entries are created.
 */
DEFINE_STATIC_KEY_DEFERRED_FALSE(nf_ct_evq_needed, HZ);

/* While a reference is held, new entries of @net get the event queue
 * extension, and with nf_conntrack_events=2 the event cache, so that they
 * can be subscribed.  Entries that exist already cannot.
 */
void nf_ct_evq_netns_get(struct net *net)
{
	atomic_inc(&nf_ct_pernet(net)->ecache.evq_users);
	static_branch_deferred_inc(&nf_ct_evq_needed);
}
EXPORT_SYMBOL_GPL(nf_ct_evq_netns_get);

void nf_ct_evq_netns_put(struct net *net)
{
	atomic_dec(&nf_ct_pernet(net)->ecache.evq_users);
	static_branch_slow_dec_deferred(&nf_ct_evq_needed);
}
EXPORT_SYMBOL_GPL(nf_ct_evq_netns_put);

static u32 nf_ct_evq_cookie(u32 sub)
{
	return FIELD_GET(NF_CT_EVQ_COOKIE, sub);
}

static u32 nf_ct_evq_set_cookie(u32 sub, u32 cookie)
{
	return (sub & ~NF_CT_EVQ_COOKIE) | FIELD_PREP(NF_CT_EVQ_COOKIE, cookie);
}

static struct nf_ct_evq_net *nf_ct_evq_net_rcu(const struct net *net)
{
	return rcu_dereference(nf_ct_pernet(net)->ecache.evq);
}

static struct nf_ct_evq_net *nf_ct_evq_net_locked(struct nf_conntrack_net *cnet)
{
	return rcu_dereference_protected(cnet->ecache.evq,
					 lockdep_is_held(&cnet->ecache.evq_mutex));
}

/* under rcu_read_lock() or the netns's evq_mutex */
static struct nf_ct_evq *nf_ct_evq_lookup(struct nf_ct_evq_net *en, u16 num)
{
	return xa_load(&en->queues, num);
}

static void nf_ct_evq_stats_sum(struct nf_ct_evq *q,
				struct nf_ct_evq_stats *sum)
{
	spin_lock_bh(&q->lock);
	sum->delivered = q->delivered;
	sum->unbound = q->unbound;
	sum->lost = q->lost;
	spin_unlock_bh(&q->lock);
	sum->overflow = atomic64_read(&q->overflow);
	sum->noext = atomic64_read(&q->noext);
}

#ifdef CONFIG_PROC_FS
/* queue portid events flags delivered unbound lost overflow noext */
static int nf_ct_evq_seq_show(struct seq_file *s, void *v)
{
	struct nf_ct_evq_stats sum;
	struct nf_ct_evq_net *en;
	struct nf_ct_evq *q;
	unsigned long num;

	rcu_read_lock();
	en = nf_ct_evq_net_rcu(seq_file_single_net(s));
	if (en) {
		xa_for_each(&en->queues, num, q) {
			nf_ct_evq_stats_sum(q, &sum);
			seq_printf(s, "%5u %10u %#x %#x %llu %llu %llu %llu %llu\n",
				   q->num, READ_ONCE(q->portid),
				   READ_ONCE(q->events), READ_ONCE(q->flags),
				   sum.delivered, sum.unbound, sum.lost,
				   sum.overflow, sum.noext);
		}
	}
	rcu_read_unlock();

	return 0;
}

static int nf_ct_evq_invalid_show(struct seq_file *s, void *v)
{
	struct nf_ct_evq_net *en;
	u64 invalid = 0;

	rcu_read_lock();
	en = nf_ct_evq_net_rcu(seq_file_single_net(s));
	if (en)
		invalid = atomic64_read(&en->invalid);
	rcu_read_unlock();

	seq_printf(s, "%llu\n", invalid);
	return 0;
}
#endif

/* The queues of a netns come into being with the first one; the caller
 * holds the netns's evq_mutex.
 */
static struct nf_ct_evq_net *nf_ct_evq_net_get(struct net *net)
{
	struct nf_conntrack_net *cnet = nf_ct_pernet(net);
	struct nf_ct_evq_net *en;

	en = nf_ct_evq_net_locked(cnet);
	if (en)
		return en;

	en = kzalloc_obj(*en, GFP_KERNEL_ACCOUNT);
	if (!en)
		return ERR_PTR(-ENOMEM);

	en->mutex = &cnet->ecache.evq_mutex;
	xa_init(&en->queues);
	xa_init(&en->socks);
	rcu_assign_pointer(cnet->ecache.evq, en);
#ifdef CONFIG_PROC_FS
	/* lives as long as the netns; a failure only costs the statistics */
	en->proc = proc_create_net_single("nf_conntrack_evq", 0440,
					  net->nf.proc_netfilter,
					  nf_ct_evq_seq_show, NULL);
	en->proc_invalid = proc_create_net_single("nf_conntrack_evq_invalid",
						  0440,
						  net->nf.proc_netfilter,
						  nf_ct_evq_invalid_show,
						  NULL);
#endif
	return en;
}

static struct nf_ct_evq *nf_ct_evq_create(struct nf_ct_evq_net *en, u16 num)
{
	struct nf_ct_evq *q;
	int err;

	lockdep_assert_held(en->mutex);

	q = kzalloc_obj(*q, GFP_KERNEL_ACCOUNT);
	if (!q)
		return ERR_PTR(-ENOMEM);

	q->evqnet = en;
	q->num = num;
	q->events = CTNL_EVQ_EV_ALL;
	spin_lock_init(&q->lock);
	err = xa_insert(&en->queues, num, q, GFP_KERNEL_ACCOUNT);
	if (err) {
		kfree(q);
		return ERR_PTR(err);
	}

	return q;
}

/* Called when neither a rule nor a socket uses the queue any more.  Returns
 * true when the netns is gone and this was its last queue.
 */
static bool nf_ct_evq_destroy(struct nf_ct_evq *q)
{
	struct nf_ct_evq_net *en = q->evqnet;

	lockdep_assert_held(en->mutex);

	/* erased first: a delivery that finds the queue dead looks again */
	xa_erase(&en->queues, q->num);
	spin_lock_bh(&q->lock);
	q->dead = true;
	spin_unlock_bh(&q->lock);
	kfree_rcu(q, rcu);

	return en->exiting && xa_empty(&en->queues);
}

/* The socket gives up the queue; the netns is alive, so it is not the last. */
static void nf_ct_evq_release(struct nf_ct_evq *q)
{
	spin_lock_bh(&q->lock);
	WRITE_ONCE(q->portid, 0);
	WRITE_ONCE(q->cookie, 0);
	spin_unlock_bh(&q->lock);

	list_del(&q->sock_node);
	q->sock = NULL;
	if (!q->rules)
		nf_ct_evq_destroy(q);
}

static void nf_ct_evq_sock_release(struct nf_ct_evq_sock *s)
{
	struct nf_ct_evq *q, *next;

	list_for_each_entry_safe(q, next, &s->queues, sock_node) {
		nf_ct_evq_release(q);
		cond_resched();
	}
}

static void nf_ct_evq_net_free(struct nf_ct_evq_net *en)
{
	xa_destroy(&en->queues);
	xa_destroy(&en->socks);
	kfree_rcu(en, rcu);
}

/* A rule's references to the queues @num .. @num + @total - 1, in @queues:
 * a queue exists while rules use it, whether or not a socket is bound.
 */
int nf_ct_evq_get(struct net *net, u16 num, unsigned int total,
		  struct nf_ct_evq **queues)
{
	struct mutex *mutex = &nf_ct_pernet(net)->ecache.evq_mutex;
	struct nf_ct_evq_net *en;
	unsigned int i;
	int err = 0;

	mutex_lock(mutex);
	en = nf_ct_evq_net_get(net);
	if (IS_ERR(en)) {
		mutex_unlock(mutex);
		return PTR_ERR(en);
	}

	for (i = 0; i < total; i++) {
		struct nf_ct_evq *q = nf_ct_evq_lookup(en, num + i);

		if (!q)
			q = nf_ct_evq_create(en, num + i);
		if (IS_ERR(q)) {
			err = PTR_ERR(q);
			break;
		}
		q->rules++;
		queues[i] = q;
		cond_resched();
	}
	/* the netns is alive: none of these can be its last queue */
	while (err && i--)
		if (--queues[i]->rules == 0 && !queues[i]->sock)
			nf_ct_evq_destroy(queues[i]);
	mutex_unlock(mutex);

	return err;
}
EXPORT_SYMBOL_GPL(nf_ct_evq_get);

/* Also after the conntrack netns exit, when nf_tables' exit runs later
 * (modules loaded in that order): the netns's data is freed after both.
 */
void nf_ct_evq_put(struct net *net, struct nf_ct_evq **queues,
		   unsigned int total)
{
	struct mutex *mutex = &nf_ct_pernet(net)->ecache.evq_mutex;
	struct nf_ct_evq_net *en = queues[0]->evqnet;
	bool last = false;
	unsigned int i;

	mutex_lock(mutex);
	for (i = 0; i < total; i++) {
		struct nf_ct_evq *q = queues[i];

		if (--q->rules == 0 && !q->sock && nf_ct_evq_destroy(q))
			last = true;
		cond_resched();
	}
	mutex_unlock(mutex);

	/* the netns went first: its last rule frees what is left */
	if (last)
		nf_ct_evq_net_free(en);
}
EXPORT_SYMBOL_GPL(nf_ct_evq_put);

/* The queue table of the netns, for a rule that takes its queue numbers
 * from a register and so holds no queue.
 */
int nf_ct_evq_prepare(struct net *net)
{
	struct mutex *mutex = &nf_ct_pernet(net)->ecache.evq_mutex;
	int err;

	mutex_lock(mutex);
	err = PTR_ERR_OR_ZERO(nf_ct_evq_net_get(net));
	mutex_unlock(mutex);

	return err;
}
EXPORT_SYMBOL_GPL(nf_ct_evq_prepare);

bool nf_ct_evq_bound(const struct nf_ct_evq *q)
{
	return READ_ONCE(q->portid);
}
EXPORT_SYMBOL_GPL(nf_ct_evq_bound);

void nf_ct_evq_noext(struct nf_ct_evq *q)
{
	atomic64_inc(&q->noext);
}
EXPORT_SYMBOL_GPL(nf_ct_evq_noext);

/* The entry of the binding socket's portid */
static struct nf_ct_evq_sock *nf_ct_evq_sock_get(struct nf_ct_evq_net *en,
						 u32 portid, u64 ino)
{
	struct nf_ct_evq_sock *s;
	int err;

	s = xa_load(&en->socks, portid);
	if (s) {
		if (s->ino != ino) {
			/* the socket that had the portid is being released */
			nf_ct_evq_sock_release(s);
			s->ino = ino;
			s->stale++;
		}
		return s;
	}

	s = kzalloc_obj(*s, GFP_KERNEL_ACCOUNT);
	if (!s)
		return ERR_PTR(-ENOMEM);
	s->ino = ino;
	INIT_LIST_HEAD(&s->queues);
	err = xa_insert(&en->socks, portid, s, GFP_KERNEL_ACCOUNT);
	if (err) {
		kfree(s);
		return ERR_PTR(err);
	}

	return s;
}

/* @ino is the inode number of the binding socket */
int nf_ct_evq_bind(struct net *net, u16 num, u32 portid, u64 ino, u32 events,
		   u32 flags, struct netlink_ext_ack *extack)
{
	struct mutex *mutex = &nf_ct_pernet(net)->ecache.evq_mutex;
	struct nf_ct_evq_net *en;
	struct nf_ct_evq_sock *s;
	struct nf_ct_evq *q;
	int ret = 0;

	if (!events || events & ~CTNL_EVQ_EV_ALL) {
		NL_SET_ERR_MSG(extack, "invalid event mask");
		return -EINVAL;
	}
	if (flags & ~CTNL_EVQ_F_MASK) {
		NL_SET_ERR_MSG(extack, "unknown flags");
		return -EINVAL;
	}

	mutex_lock(mutex);
	en = nf_ct_evq_net_get(net);
	if (IS_ERR(en)) {
		ret = PTR_ERR(en);
		goto out;
	}
	s = nf_ct_evq_sock_get(en, portid, ino);
	if (IS_ERR(s)) {
		ret = PTR_ERR(s);
		goto out;
	}

	q = nf_ct_evq_lookup(en, num);
	if (q && q->sock && q->sock != s) {
		NL_SET_ERR_MSG(extack, "queue is bound by another socket");
		ret = -EBUSY;
		goto out;
	}
	if (!q) {
		q = nf_ct_evq_create(en, num);
		if (IS_ERR(q)) {
			ret = PTR_ERR(q);
			goto out;
		}
	}

	spin_lock_bh(&q->lock);
	if (!q->sock) {
		/* a new listener: entries' NEW messages went to others */
		en->cookie = en->cookie % NF_CT_EVQ_COOKIE_LAST + 1;
		WRITE_ONCE(q->cookie, en->cookie);
		WRITE_ONCE(q->portid, portid);
	}
	WRITE_ONCE(q->events, events);
	WRITE_ONCE(q->flags, flags);
	spin_unlock_bh(&q->lock);

	if (!q->sock) {
		q->sock = s;
		list_add(&q->sock_node, &s->queues);
	}
out:
	mutex_unlock(mutex);
	return ret;
}
EXPORT_SYMBOL_GPL(nf_ct_evq_bind);

int nf_ct_evq_unbind(struct net *net, u16 num, u32 portid, u64 ino,
		     struct netlink_ext_ack *extack)
{
	struct nf_conntrack_net *cnet = nf_ct_pernet(net);
	struct nf_ct_evq_net *en;
	struct nf_ct_evq *q = NULL;
	int ret = 0;

	mutex_lock(&cnet->ecache.evq_mutex);
	en = nf_ct_evq_net_locked(cnet);
	if (en)
		q = nf_ct_evq_lookup(en, num);
	if (q && q->sock && q->portid == portid && q->sock->ino == ino) {
		nf_ct_evq_release(q);
	} else {
		NL_SET_ERR_MSG(extack, "queue is not bound by this socket");
		ret = -ENOENT;
	}
	mutex_unlock(&cnet->ecache.evq_mutex);

	return ret;
}
EXPORT_SYMBOL_GPL(nf_ct_evq_unbind);

static int nf_ct_evq_fill(struct sk_buff *skb, struct nf_ct_evq *q,
			  u32 portid, u32 seq)
{
	struct nf_ct_evq_stats sum;
	struct nlmsghdr *nlh;
	struct nlattr *nest;

	nlh = nfnl_msg_put(skb, portid, seq,
			   nfnl_msg_type(NFNL_SUBSYS_CTNETLINK,
					 IPCTNL_MSG_CT_EVQ_GET),
			   NLM_F_MULTI, AF_UNSPEC, NFNETLINK_V0, 0);
	if (!nlh)
		return -EMSGSIZE;

	nf_ct_evq_stats_sum(q, &sum);
	if (nla_put_be16(skb, CTA_EVQ_NUM, htons(q->num)) ||
	    nla_put_be32(skb, CTA_EVQ_PORTID, htonl(READ_ONCE(q->portid))) ||
	    nla_put_be32(skb, CTA_EVQ_EVENTS, htonl(READ_ONCE(q->events))) ||
	    nla_put_be32(skb, CTA_EVQ_FLAGS, htonl(READ_ONCE(q->flags))))
		goto nla_put_failure;

	nest = nla_nest_start(skb, CTA_EVQ_STATS);
	if (!nest ||
	    nla_put_be64(skb, CTA_EVQ_STATS_DELIVERED,
			 cpu_to_be64(sum.delivered), CTA_EVQ_STATS_PAD) ||
	    nla_put_be64(skb, CTA_EVQ_STATS_UNBOUND,
			 cpu_to_be64(sum.unbound), CTA_EVQ_STATS_PAD) ||
	    nla_put_be64(skb, CTA_EVQ_STATS_LOST,
			 cpu_to_be64(sum.lost), CTA_EVQ_STATS_PAD) ||
	    nla_put_be64(skb, CTA_EVQ_STATS_OVERFLOW,
			 cpu_to_be64(sum.overflow), CTA_EVQ_STATS_PAD) ||
	    nla_put_be64(skb, CTA_EVQ_STATS_NOEXT,
			 cpu_to_be64(sum.noext), CTA_EVQ_STATS_PAD))
		goto nla_put_failure;
	nla_nest_end(skb, nest);

	nlmsg_end(skb, nlh);
	return 0;

nla_put_failure:
	nlmsg_cancel(skb, nlh);
	return -EMSGSIZE;
}

/* The queues of the socket's netns, by number: cb->args[0] is the number
 * to go on from.
 */
int nf_ct_evq_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct nf_ct_evq_net *en;
	struct nf_ct_evq *q;
	unsigned long num;

	rcu_read_lock();
	en = nf_ct_evq_net_rcu(sock_net(skb->sk));
	if (en) {
		xa_for_each_start(&en->queues, num, q, cb->args[0]) {
			if (nf_ct_evq_fill(skb, q, NETLINK_CB(cb->skb).portid,
					   cb->nlh->nlmsg_seq) < 0) {
				/* this one goes into the next message */
				cb->args[0] = num;
				goto out;
			}
		}
	}
	cb->args[0] = U16_MAX + 1;
out:
	rcu_read_unlock();

	return skb->len;
}
EXPORT_SYMBOL_GPL(nf_ct_evq_dump);

/* A closed socket gives up its queues, in its own netns only: the portid
 * is only unique there.
 */
static int nf_ct_evq_rcv_nl_event(struct notifier_block *this,
				  unsigned long event, void *ptr)
{
	struct netlink_notify *n = ptr;
	struct nf_conntrack_net *cnet;
	struct nf_ct_evq_net *en;
	struct nf_ct_evq_sock *s;

	if (event != NETLINK_URELEASE || n->protocol != NETLINK_NETFILTER)
		return NOTIFY_DONE;

	/* the socket kept the netns, and the notifier the module, alive */
	cnet = nf_ct_pernet(n->net);
	/* the table, once there, stays: without it the socket bound nothing */
	if (!rcu_access_pointer(cnet->ecache.evq))
		return NOTIFY_DONE;

	mutex_lock(&cnet->ecache.evq_mutex);
	en = nf_ct_evq_net_locked(cnet);
	s = en ? xa_load(&en->socks, n->portid) : NULL;
	if (s && s->stale) {
		/* an earlier socket of the portid: a new one has its entry */
		s->stale--;
	} else if (s) {
		nf_ct_evq_sock_release(s);
		xa_erase(&en->socks, n->portid);
		kfree(s);
	}
	mutex_unlock(&cnet->ecache.evq_mutex);

	return NOTIFY_DONE;
}

static struct notifier_block nf_ct_evq_nl_notifier = {
	.notifier_call	= nf_ct_evq_rcv_nl_event,
};

/* Send @skb to the listener; the caller holds q->lock, @skb stays its own.
 * With @retry, a full receive buffer or a lack of memory is not counted:
 * the message will be sent again.
 */
static int nf_ct_evq_send(struct net *net, struct nf_ct_evq *q,
			  const struct nf_ct_evq_hook *hook,
			  struct sk_buff *skb, bool retry)
{
	struct sk_buff *nskb = NULL;
	int err = -ENOMEM;

	if (skb)
		nskb = skb_clone(skb, GFP_ATOMIC);
	if (nskb)
		err = hook->unicast(nskb, net, q->portid);

	if (!err)
		q->delivered++;
	else if (err != -ENOBUFS && err != -ENOMEM)
		/* the socket is going away */
		q->unbound++;
	else if (retry)
		err = -EAGAIN;
	else
		q->lost++;

	return err;
}

/* One event of an entry, on its way to the entry's queues */
struct nf_ct_evq_event {
	struct nf_conn			*ct;
	struct nf_conn_evq		*evq;
	const struct nf_ct_evq_hook	*hook;
	unsigned int			type;	/* CTNL_EVQ_EV_* */
	bool				reports_new;
	bool				multicast_ok;
	struct sk_buff			*skb;	/* its message, or NULL */
	struct sk_buff			*full;	/* the entry's NEW, if built */
};

/* Does the entry report NEW events at all ("ct event set")? */
static bool nf_ct_evq_reports_new(const struct nf_conn *ct)
{
	const struct nf_conntrack_ecache *e = nf_ct_ecache_find(ct);

	return e && READ_ONCE(e->ctmask) & (BIT(IPCT_NEW) | BIT(IPCT_RELATED));
}

/* Has the queue's binding still to get the entry's NEW?  q->lock held, or
 * only a guess.
 */
static bool nf_ct_evq_owes_new(const struct nf_ct_evq *q, u32 sub,
			       bool reports_new)
{
	return reports_new && READ_ONCE(q->events) & CTNL_EVQ_EV_NEW &&
	       nf_ct_evq_cookie(sub) != READ_ONCE(q->cookie);
}

static unsigned int nf_ct_evq_event_type(unsigned int events)
{
	if (events & BIT(IPCT_DESTROY))
		return CTNL_EVQ_EV_DESTROY;
	if (events & (BIT(IPCT_NEW) | BIT(IPCT_RELATED)))
		return CTNL_EVQ_EV_NEW;
	return CTNL_EVQ_EV_UPDATE;
}

/* Should the entry's NEW be built before q->lock is taken?  The builder
 * takes the entry's lock; the guess is checked under q->lock.
 */
static bool nf_ct_evq_guess_new(const struct nf_ct_evq *q, u32 sub,
				const struct nf_ct_evq_event *ev)
{
	if (ev->type == CTNL_EVQ_EV_NEW || !READ_ONCE(q->portid))
		return false;
	if (ev->type == CTNL_EVQ_EV_DESTROY &&
	    !(READ_ONCE(q->events) & CTNL_EVQ_EV_DESTROY))
		return false;
	return nf_ct_evq_owes_new(q, sub, ev->reports_new);
}

static void nf_ct_evq_build_new(struct nf_ct_evq_event *ev)
{
	ev->full = ev->hook->build(ev->ct, NF_CT_EVQ_FULL_STATE, 0);
	if (!ev->full)
		ev->full = ERR_PTR(-ENOMEM);
}

/* Under q->lock: the queue in word @i gets the event.  Returns -EAGAIN
 * when it owes the entry a NEW that is not built yet, -ENOBUFS when a
 * reliable queue's DESTROY must be reported again.
 */
static int nf_ct_evq_deliver_locked(struct nf_ct_evq *q, unsigned int i,
				    struct nf_ct_evq_event *ev)
{
	struct sk_buff *full = IS_ERR(ev->full) ? NULL : ev->full;
	struct net *net = nf_ct_net(ev->ct);
	u32 sub = READ_ONCE(ev->evq->sub[i]);
	bool retry;
	int err;

	if (nf_ct_evq_cookie(sub) == NF_CT_EVQ_COOKIE_DONE)
		return 0;

	if (!q->portid) {
		q->unbound++;
		goto done;
	}

	retry = ev->type == CTNL_EVQ_EV_DESTROY &&
		q->flags & CTNL_EVQ_F_RELIABLE;

	if (nf_ct_evq_owes_new(q, sub, ev->reports_new)) {
		switch (ev->type) {
		case CTNL_EVQ_EV_NEW:
			/* the entry's first report, carrying its full state */
			if (!nf_ct_evq_send(net, q, ev->hook, ev->skb, false))
				WRITE_ONCE(ev->evq->sub[i],
					   nf_ct_evq_set_cookie(sub, q->cookie));
			return 0;
		case CTNL_EVQ_EV_UPDATE:
			/* the DESTROY sends it, if the queue wants that */
			if (nf_ct_is_dying(ev->ct))
				return 0;
			break;
		case CTNL_EVQ_EV_DESTROY:
			if (!(q->events & CTNL_EVQ_EV_DESTROY))
				goto done;
			break;
		}

		if (!ev->full)
			return -EAGAIN;
		err = nf_ct_evq_send(net, q, ev->hook, full, retry);
		if (err == -EAGAIN)
			goto again;
		if (err) {
			/* the update is lost with it, the DESTROY too */
			if (ev->type == CTNL_EVQ_EV_DESTROY)
				q->lost++;
			goto done;
		}
		sub = nf_ct_evq_set_cookie(sub, q->cookie);
		WRITE_ONCE(ev->evq->sub[i], sub);
		/* the NEW says what the update would have said */
		if (ev->type == CTNL_EVQ_EV_UPDATE)
			return 0;
	}

	if (q->events & ev->type &&
	    nf_ct_evq_send(net, q, ev->hook, ev->skb, retry) == -EAGAIN)
		goto again;
done:
	if (ev->type == CTNL_EVQ_EV_DESTROY)
		WRITE_ONCE(ev->evq->sub[i],
			   nf_ct_evq_set_cookie(sub, NF_CT_EVQ_COOKIE_DONE) &
			   ~NF_CT_EVQ_RETRY);
	return 0;

again:
	/* Report the DESTROY again.  Once multicast listeners had it, the
	 * word says so, and they do not get it twice.
	 */
	if (ev->multicast_ok)
		WRITE_ONCE(ev->evq->sub[i], sub | NF_CT_EVQ_RETRY);
	return -ENOBUFS;
}

/* Lookups of a queue that is replaced under the delivery, at most */
#define NF_CT_EVQ_LOOKUPS	3

static int nf_ct_evq_deliver_one(struct nf_ct_evq_net *en, unsigned int i,
				 struct nf_ct_evq_event *ev)
{
	unsigned int lookups = 0;
	struct nf_ct_evq *q;
	u32 sub;
	int ret;

	do {
		/* A queue is only freed while no rule and no socket use it:
		 * one replaced this often had no listener in between, and
		 * the event goes where events go while nobody is bound.
		 */
		if (lookups++ == NF_CT_EVQ_LOOKUPS)
			return 0;

		sub = READ_ONCE(ev->evq->sub[i]);
		if (nf_ct_evq_cookie(sub) == NF_CT_EVQ_COOKIE_DONE)
			return 0;

		/* No rule and no socket use the number any more; a queue
		 * created for it later gets the entry's NEW first.
		 */
		q = nf_ct_evq_lookup(en, FIELD_GET(NF_CT_EVQ_NUM, sub));
		if (!q)
			return 0;

		if (!ev->full && nf_ct_evq_guess_new(q, sub, ev))
			nf_ct_evq_build_new(ev);

		spin_lock_bh(&q->lock);
		/* a dead queue may have been replaced since the lookup */
		ret = q->dead ? -EAGAIN : nf_ct_evq_deliver_locked(q, i, ev);
		spin_unlock_bh(&q->lock);

		/* bound, or bound again, since the guess */
		if (ret == -EAGAIN && !ev->full)
			nf_ct_evq_build_new(ev);
	} while (ret == -EAGAIN);

	return ret;
}

/* Called by ctnetlink for the events of an entry with subscriptions, with
 * @skb the message multicast listeners get (NULL if it could not be
 * built).  @events does not include the events that are only reported
 * again for multicast listeners that missed them; @multicast_ok says that
 * the multicast listeners that must not miss a DESTROY had it.
 *
 * Returns -ENOBUFS when a queue bound with CTNL_EVQ_F_RELIABLE could not
 * take the entry's DESTROY (or the NEW before it): nf_ct_delete() then
 * keeps the entry on the event cache's dying list, and the event cache
 * worker reports the DESTROY again, as it does for multicast listeners
 * with NETLINK_BROADCAST_ERROR.  Parked entries still count against
 * nf_conntrack_max.
 */
int nf_ct_evq_deliver(struct nf_conn *ct, struct nf_conn_evq *evq,
		      unsigned int events, struct sk_buff *skb,
		      bool multicast_ok)
{
	struct nf_ct_evq_event ev = {
		.ct		= ct,
		.evq		= evq,
		.hook		= rcu_dereference(nf_ct_evq_hook),
		.type		= nf_ct_evq_event_type(events),
		.reports_new	= nf_ct_evq_reports_new(ct),
		.multicast_ok	= multicast_ok,
		.skb		= skb,
	};
	struct nf_ct_evq_net *en;
	unsigned int i;
	int ret = 0;

	en = nf_ct_evq_net_rcu(nf_ct_net(ct));
	if (!ev.hook || !en)
		return 0;

	for (i = 0; i < NF_CT_EVQ_PER_CT && READ_ONCE(evq->sub[i]); i++)
		if (nf_ct_evq_deliver_one(en, i, &ev))
			ret = -ENOBUFS;

	if (!IS_ERR_OR_NULL(ev.full))
		consume_skb(ev.full);

	return ret;
}
EXPORT_SYMBOL_GPL(nf_ct_evq_deliver);

/* Is this DESTROY reported again for reliable queues only? */
bool nf_ct_evq_destroy_retried(const struct nf_conn_evq *evq)
{
	unsigned int i;

	for (i = 0; i < NF_CT_EVQ_PER_CT; i++)
		if (READ_ONCE(evq->sub[i]) & NF_CT_EVQ_RETRY)
			return true;

	return false;
}
EXPORT_SYMBOL_GPL(nf_ct_evq_destroy_retried);

/* A confirmed entry was subscribed to @q in word @i: send it its NEW now. */
static void nf_ct_evq_send_new(struct nf_conn *ct, struct nf_conn_evq *evq,
			       unsigned int i, struct nf_ct_evq *q)
{
	const struct nf_ct_evq_hook *hook = rcu_dereference(nf_ct_evq_hook);
	struct sk_buff *full = NULL;
	u32 sub;

	if (!hook || !nf_ct_evq_reports_new(ct))
		return;

	/* built outside the lock, on a guess checked under it */
	if (READ_ONCE(q->portid) &&
	    nf_ct_evq_owes_new(q, READ_ONCE(evq->sub[i]), true))
		full = hook->build(ct, NF_CT_EVQ_FULL_STATE, 0);

	spin_lock_bh(&q->lock);
	sub = READ_ONCE(evq->sub[i]);
	/* a dead queue has no portid: a queue that replaced it gets the NEW */
	if (!q->portid) {
		/* a listener that binds later gets it with the next event */
		q->unbound++;
	} else if (full && nf_ct_evq_owes_new(q, sub, true) &&
		   nf_ct_evq_cookie(sub) != NF_CT_EVQ_COOKIE_DONE &&
		   !nf_ct_is_dying(ct) &&
		   !nf_ct_evq_send(nf_ct_net(ct), q, hook, full, false)) {
		WRITE_ONCE(evq->sub[i], nf_ct_evq_set_cookie(sub, q->cookie));
	}
	spin_unlock_bh(&q->lock);

	consume_skb(full);
}

/* Subscribe the entry to queue @num, from the packet path, unless it
 * already is.  @q is the queue of that number, or NULL when there is none:
 * then there is no one to send the NEW to, and nowhere to count.
 */
static void __nf_ct_evq_subscribe(struct nf_conn *ct, struct nf_conn_evq *evq,
				  u16 num, struct nf_ct_evq *q)
{
	u32 want = NF_CT_EVQ_USED | num;
	bool confirmed;
	unsigned int i;

	if (nf_ct_is_dying(ct))
		return;

	/* the first free word, if any: words are taken in order */
	for (i = 0; i < NF_CT_EVQ_PER_CT && READ_ONCE(evq->sub[i]); i++)
		;
	if (i == NF_CT_EVQ_PER_CT)
		goto overflow;

	/* what the packet changed goes to the listeners it had so far */
	confirmed = nf_ct_is_confirmed(ct);
	if (confirmed) {
		local_bh_disable();
		nf_ct_deliver_cached_events(ct);
		local_bh_enable();
	}

	/* from the start: another CPU may have subscribed it meanwhile */
	for (i = 0; i < NF_CT_EVQ_PER_CT; i++) {
		u32 sub = READ_ONCE(evq->sub[i]);

		if (!sub) {
			sub = cmpxchg(&evq->sub[i], 0, want);
			if (!sub)
				break;
		}
		if (FIELD_GET(NF_CT_EVQ_NUM, sub) == num)
			return;
	}
	if (i == NF_CT_EVQ_PER_CT)
		goto overflow;

	if (confirmed && q)
		nf_ct_evq_send_new(ct, evq, i, q);
	return;

overflow:
	if (q)
		atomic64_inc(&q->overflow);
}

/* For a rule that holds @q */
void nf_ct_evq_subscribe(struct nf_conn *ct, struct nf_conn_evq *evq,
			 struct nf_ct_evq *q)
{
	__nf_ct_evq_subscribe(ct, evq, q->num, q);
}
EXPORT_SYMBOL_GPL(nf_ct_evq_subscribe);

/* For a queue number from a register, under rcu_read_lock(): no rule holds
 * the queue, which exists only while another rule or a socket uses the
 * number.  An entry subscribed to a number with no queue gets its NEW on
 * the queue created for it later, as after any unbind.
 */
void nf_ct_evq_subscribe_num(struct nf_conn *ct, struct nf_conn_evq *evq,
			     u32 num, bool bypass)
{
	struct nf_ct_evq_net *en = nf_ct_evq_net_rcu(nf_ct_net(ct));
	struct nf_ct_evq *q = NULL;

	/* the netns is going away */
	if (!en)
		return;

	if (num > U16_MAX) {
		atomic64_inc(&en->invalid);
		return;
	}

	q = nf_ct_evq_lookup(en, num);
	if (!evq) {
		if (q)
			atomic64_inc(&q->noext);
		return;
	}

	if (bypass && (!q || !READ_ONCE(q->portid)))
		return;

	__nf_ct_evq_subscribe(ct, evq, num, q);
}
EXPORT_SYMBOL_GPL(nf_ct_evq_subscribe_num);

void nf_conntrack_evq_pernet_fini(struct net *net)
{
	struct nf_conntrack_net *cnet = nf_ct_pernet(net);
	struct nf_ct_evq_net *en;
	bool last;

	mutex_lock(&cnet->ecache.evq_mutex);
	en = nf_ct_evq_net_locked(cnet);
	if (!en) {
		mutex_unlock(&cnet->ecache.evq_mutex);
		return;
	}
	RCU_INIT_POINTER(cnet->ecache.evq, NULL);

	/* Every socket of the netns is closed, and its URELEASE done: no
	 * queue is bound.  Queues still held by rules go with the ruleset.
	 */
	WARN_ON_ONCE(!xa_empty(&en->socks));
	en->exiting = true;
	last = xa_empty(&en->queues);
	mutex_unlock(&cnet->ecache.evq_mutex);

	proc_remove(en->proc);
	proc_remove(en->proc_invalid);
	if (last)
		nf_ct_evq_net_free(en);
}

/* Between the pernet registration and unregistration of conntrack: the
 * notifier reads the netns's conntrack data.
 */
int nf_conntrack_evq_init(void)
{
	return netlink_register_notifier(&nf_ct_evq_nl_notifier);
}

void nf_conntrack_evq_fini(void)
{
	netlink_unregister_notifier(&nf_ct_evq_nl_notifier);
	static_key_deferred_flush(&nf_ct_evq_needed);
}
