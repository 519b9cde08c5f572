// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark helper, not part of the series: report the extension area of
 * the conntrack entries of one netns as the kernel records it
 * (ct->ext->len), for "bytes_per_entry" in make bench.
 *
 *   insmod ctextlen.ko pid=PID    (a process in the netns)
 *
 * prints "ctextlen pid=PID entries=N ext_len_sum=S ext_len_min=A
 * ext_len_max=B" to the kernel log and refuses to stay loaded.
 */
#include <linux/module.h>
#include <linux/pid.h>
#include <net/net_namespace.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_conntrack_extend.h>

static int pid;
module_param(pid, int, 0);

struct ctextlen {
	unsigned long entries, sum;
	unsigned int min, max;
};

static int ctextlen_one(struct nf_conn *ct, void *data)
{
	struct ctextlen *c = data;
	unsigned int len = ct->ext ? ct->ext->len : 0;

	c->entries++;
	c->sum += len;
	if (len < c->min)
		c->min = len;
	if (len > c->max)
		c->max = len;
	return 0;
}

static int __init ctextlen_init(void)
{
	struct ctextlen c = { .min = UINT_MAX };
	struct nf_ct_iter_data iter = { .data = &c };
	struct net *net;

	net = get_net_ns_by_pid(pid);
	if (IS_ERR(net))
		return PTR_ERR(net);
	iter.net = net;
	nf_ct_iterate_cleanup_net(ctextlen_one, &iter);
	put_net(net);
	pr_info("ctextlen pid=%d entries=%lu ext_len_sum=%lu ext_len_min=%u ext_len_max=%u\n",
		pid, c.entries, c.sum, c.entries ? c.min : 0, c.max);
	/* one shot: nothing to keep loaded */
	return -EAGAIN;
}

module_init(ctextlen_init);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("conntrack extension sizes of a netns (benchmark helper)");
