// SPDX-License-Identifier: GPL-2.0-only
/*
 * nf_tables "ctevent" expression: subscribe the packet's conntrack entry to
 * a unicast conntrack event queue ("ct event queue" in nft).  The entry's
 * events then also reach the ctnetlink socket bound to that queue.
 */

#include <linux/kernel.h>
#include <linux/init.h>
#include <linux/module.h>
#include <linux/netlink.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <net/netfilter/nf_tables.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_conntrack_ecache.h>

struct nft_ctevent {
	u16	queuenum;
	u16	queues_total;
	u16	flags;
	u8	slot[NF_CT_EVQ_SLOTS];
};

static void nft_ctevent_eval(const struct nft_expr *expr,
			     struct nft_regs *regs,
			     const struct nft_pktinfo *pkt)
{
	const struct nft_ctevent *priv = nft_expr_priv(expr);
	struct nf_conntrack_ecache *e;
	enum ip_conntrack_info ctinfo;
	unsigned int slot;
	struct nf_conn *ct;

	ct = nf_ct_get(pkt->skb, &ctinfo);
	if (!ct || nf_ct_is_template(ct))
		return;

	/* entries created with no listener around have no event cache */
	e = nf_ct_ecache_find(ct);
	if (!e)
		return;

	/* every event of a connection goes to the same queue of the range */
	slot = priv->slot[0];
	if (priv->queues_total > 1)
		slot = priv->slot[reciprocal_scale(nf_ct_get_id(ct),
						   priv->queues_total)];

	if (likely(atomic_read(&e->evq) & NF_CT_EVQ_CLAIM(slot)))
		return;

	if ((priv->flags & NFT_CTEVENT_F_BYPASS) &&
	    !nf_ct_evq_bound(nft_net(pkt), slot))
		return;

	nf_ct_evq_subscribe(ct, e, slot);
}

static const struct nla_policy nft_ctevent_policy[NFTA_CTEVENT_MAX + 1] = {
	[NFTA_CTEVENT_NUM]	= { .type = NLA_U16 },
	[NFTA_CTEVENT_TOTAL]	= { .type = NLA_U16 },
	[NFTA_CTEVENT_FLAGS]	= NLA_POLICY_MASK(NLA_BE16, NFT_CTEVENT_F_MASK),
};

static void nft_ctevent_put_queues(struct net *net,
				   const struct nft_ctevent *priv,
				   unsigned int n)
{
	while (n--)
		nf_ct_evq_put(net, priv->queuenum + n);
}

static int nft_ctevent_init(const struct nft_ctx *ctx,
			    const struct nft_expr *expr,
			    const struct nlattr * const tb[])
{
	struct nft_ctevent *priv = nft_expr_priv(expr);
	unsigned int i;
	int err;

	switch (ctx->family) {
	case NFPROTO_IPV4:
	case NFPROTO_IPV6:
	case NFPROTO_INET:
	case NFPROTO_BRIDGE:
		break;
	default:
		return -EOPNOTSUPP;
	}

	if (!tb[NFTA_CTEVENT_NUM])
		return -EINVAL;
	priv->queuenum = ntohs(nla_get_be16(tb[NFTA_CTEVENT_NUM]));

	priv->queues_total = 1;
	if (tb[NFTA_CTEVENT_TOTAL])
		priv->queues_total = ntohs(nla_get_be16(tb[NFTA_CTEVENT_TOTAL]));
	if (priv->queues_total == 0)
		return -EINVAL;
	if (priv->queuenum + priv->queues_total - 1 > U16_MAX)
		return -ERANGE;
	/* each queue of the range takes one of the netns's slots */
	if (priv->queues_total > NF_CT_EVQ_SLOTS)
		return -ENOSPC;

	if (tb[NFTA_CTEVENT_FLAGS])
		priv->flags = ntohs(nla_get_be16(tb[NFTA_CTEVENT_FLAGS]));

	err = nf_ct_netns_get(ctx->net, ctx->family);
	if (err < 0)
		return err;

	for (i = 0; i < priv->queues_total; i++) {
		err = nf_ct_evq_hold(ctx->net, priv->queuenum + i);
		if (err < 0)
			goto err_put;
		priv->slot[i] = err;
	}

	return 0;

err_put:
	nft_ctevent_put_queues(ctx->net, priv, i);
	nf_ct_netns_put(ctx->net, ctx->family);
	return err;
}

static void nft_ctevent_destroy(const struct nft_ctx *ctx,
				const struct nft_expr *expr)
{
	const struct nft_ctevent *priv = nft_expr_priv(expr);

	nft_ctevent_put_queues(ctx->net, priv, priv->queues_total);
	nf_ct_netns_put(ctx->net, ctx->family);
}

static int nft_ctevent_dump(struct sk_buff *skb,
			    const struct nft_expr *expr, bool reset)
{
	const struct nft_ctevent *priv = nft_expr_priv(expr);

	if (nla_put_be16(skb, NFTA_CTEVENT_NUM, htons(priv->queuenum)) ||
	    nla_put_be16(skb, NFTA_CTEVENT_TOTAL, htons(priv->queues_total)) ||
	    nla_put_be16(skb, NFTA_CTEVENT_FLAGS, htons(priv->flags)))
		return -1;

	return 0;
}

static int nft_ctevent_validate(const struct nft_ctx *ctx,
				const struct nft_expr *expr)
{
	/* where conntrack runs; not the netdev or inet ingress hooks */
	return nft_chain_validate_hooks(ctx->chain,
					(1 << NF_INET_PRE_ROUTING) |
					(1 << NF_INET_LOCAL_IN) |
					(1 << NF_INET_FORWARD) |
					(1 << NF_INET_LOCAL_OUT) |
					(1 << NF_INET_POST_ROUTING));
}

static struct nft_expr_type nft_ctevent_type;
static const struct nft_expr_ops nft_ctevent_ops = {
	.type		= &nft_ctevent_type,
	.size		= NFT_EXPR_SIZE(sizeof(struct nft_ctevent)),
	.eval		= nft_ctevent_eval,
	.init		= nft_ctevent_init,
	.destroy	= nft_ctevent_destroy,
	.dump		= nft_ctevent_dump,
	.validate	= nft_ctevent_validate,
	.reduce		= NFT_REDUCE_READONLY,
};

static struct nft_expr_type nft_ctevent_type __read_mostly = {
	.name		= "ctevent",
	.ops		= &nft_ctevent_ops,
	.policy		= nft_ctevent_policy,
	.maxattr	= NFTA_CTEVENT_MAX,
	.owner		= THIS_MODULE,
};

static int __init nft_ctevent_module_init(void)
{
	return nft_register_expr(&nft_ctevent_type);
}

static void __exit nft_ctevent_module_exit(void)
{
	nft_unregister_expr(&nft_ctevent_type);
}

module_init(nft_ctevent_module_init);
module_exit(nft_ctevent_module_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("nftables conntrack event queue subscription");
MODULE_ALIAS_NFT_EXPR("ctevent");
