// SPDX-License-Identifier: GPL-2.0-only
/*
 * nf_tables "ctevent" expression ("ct event queue" in nft): subscribe the
 * packet's conntrack entry to a conntrack event queue, so that the entry's
 * events also reach the ctnetlink socket bound to that queue.
 */

#include <linux/kernel.h>
#include <linux/init.h>
#include <linux/module.h>
#include <linux/netlink.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <net/netfilter/nf_tables.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_conntrack_evq.h>

struct nft_ctevent {
	u16			queuenum;
	u16			queues_total;
	u16			flags;
	u8			sreg_qnum;
	struct nf_ct_evq	**queues;
};

static void nft_ctevent_subscribe(const struct nft_ctevent *priv,
				  struct nf_conn *ct, struct nf_conn_evq *evq)
{
	struct nf_ct_evq *q = priv->queues[0];

	/* every event of a connection goes to the same queue of the range */
	if (priv->queues_total > 1)
		q = priv->queues[reciprocal_scale(nf_ct_get_id(ct),
						  priv->queues_total)];

	if (!evq) {
		nf_ct_evq_noext(q);
		return;
	}

	if ((priv->flags & NFT_CTEVENT_F_BYPASS) && !nf_ct_evq_bound(q))
		return;

	nf_ct_evq_subscribe(ct, evq, q);
}

static void nft_ctevent_eval(const struct nft_expr *expr,
			     struct nft_regs *regs,
			     const struct nft_pktinfo *pkt)
{
	const struct nft_ctevent *priv = nft_expr_priv(expr);
	enum ip_conntrack_info ctinfo;
	struct nf_conn_evq *evq;
	struct nf_conn *ct;

	ct = nf_ct_get(pkt->skb, &ctinfo);
	if (!ct || nf_ct_is_template(ct))
		return;

	evq = nf_ct_evq_find(ct);
	if (likely(evq && nf_ct_evq_subscribed(evq, priv->queuenum,
					       priv->queues_total)))
		return;

	nft_ctevent_subscribe(priv, ct, evq);
}

static void nft_ctevent_sreg_eval(const struct nft_expr *expr,
				  struct nft_regs *regs,
				  const struct nft_pktinfo *pkt)
{
	const struct nft_ctevent *priv = nft_expr_priv(expr);
	u32 num = regs->data[priv->sreg_qnum];
	enum ip_conntrack_info ctinfo;
	struct nf_conn_evq *evq;
	struct nf_conn *ct;

	ct = nf_ct_get(pkt->skb, &ctinfo);
	if (!ct || nf_ct_is_template(ct))
		return;

	evq = nf_ct_evq_find(ct);
	if (likely(evq && num <= U16_MAX &&
		   nf_ct_evq_subscribed(evq, num, 1)))
		return;

	nf_ct_evq_subscribe_num(ct, evq, num,
				priv->flags & NFT_CTEVENT_F_BYPASS);
}

static const struct nla_policy nft_ctevent_policy[NFTA_CTEVENT_MAX + 1] = {
	[NFTA_CTEVENT_NUM]	= { .type = NLA_BE16 },
	[NFTA_CTEVENT_TOTAL]	= { .type = NLA_BE16 },
	[NFTA_CTEVENT_FLAGS]	= NLA_POLICY_MASK(NLA_BE16, NFT_CTEVENT_F_MASK),
	[NFTA_CTEVENT_SREG_QNUM] = NLA_POLICY_MAX(NLA_BE32, NFT_REG32_MAX),
};

static int nft_ctevent_family(const struct nft_ctx *ctx)
{
	switch (ctx->family) {
	case NFPROTO_IPV4:
	case NFPROTO_IPV6:
	case NFPROTO_INET:
	case NFPROTO_BRIDGE:
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

static int nft_ctevent_init(const struct nft_ctx *ctx,
			    const struct nft_expr *expr,
			    const struct nlattr * const tb[])
{
	struct nft_ctevent *priv = nft_expr_priv(expr);
	int err;

	err = nft_ctevent_family(ctx);
	if (err < 0)
		return err;

	if (!tb[NFTA_CTEVENT_NUM])
		return -EINVAL;
	priv->queuenum = ntohs(nla_get_be16(tb[NFTA_CTEVENT_NUM]));

	priv->queues_total = 1;
	if (tb[NFTA_CTEVENT_TOTAL])
		priv->queues_total = ntohs(nla_get_be16(tb[NFTA_CTEVENT_TOTAL]));
	if (!priv->queues_total)
		return -EINVAL;
	if (priv->queuenum + priv->queues_total - 1 > U16_MAX)
		return -ERANGE;

	if (tb[NFTA_CTEVENT_FLAGS])
		priv->flags = ntohs(nla_get_be16(tb[NFTA_CTEVENT_FLAGS]));

	priv->queues = kvcalloc(priv->queues_total, sizeof(*priv->queues),
				GFP_KERNEL_ACCOUNT);
	if (!priv->queues)
		return -ENOMEM;

	err = nf_ct_evq_get(ctx->net, priv->queuenum, priv->queues_total,
			    priv->queues);
	if (err < 0)
		goto err_free;

	err = nf_ct_netns_get(ctx->net, ctx->family);
	if (err < 0)
		goto err_put;

	nf_ct_evq_netns_get(ctx->net);

	return 0;

err_put:
	nf_ct_evq_put(ctx->net, priv->queues, priv->queues_total);
err_free:
	kvfree(priv->queues);
	return err;
}

/* The queues need not exist: the rule holds none of them. */
static int nft_ctevent_sreg_init(const struct nft_ctx *ctx,
				 const struct nft_expr *expr,
				 const struct nlattr * const tb[])
{
	struct nft_ctevent *priv = nft_expr_priv(expr);
	int err;

	err = nft_ctevent_family(ctx);
	if (err < 0)
		return err;

	err = nft_parse_register_load(ctx, tb[NFTA_CTEVENT_SREG_QNUM],
				      &priv->sreg_qnum, sizeof(u32));
	if (err < 0)
		return err;

	if (tb[NFTA_CTEVENT_FLAGS])
		priv->flags = ntohs(nla_get_be16(tb[NFTA_CTEVENT_FLAGS]));

	err = nf_ct_evq_prepare(ctx->net);
	if (err < 0)
		return err;

	err = nf_ct_netns_get(ctx->net, ctx->family);
	if (err < 0)
		return err;

	nf_ct_evq_netns_get(ctx->net);

	return 0;
}

static void nft_ctevent_destroy(const struct nft_ctx *ctx,
				const struct nft_expr *expr)
{
	struct nft_ctevent *priv = nft_expr_priv(expr);

	nf_ct_evq_netns_put(ctx->net);
	nf_ct_netns_put(ctx->net, ctx->family);
	nf_ct_evq_put(ctx->net, priv->queues, priv->queues_total);
	kvfree(priv->queues);
}

static void nft_ctevent_sreg_destroy(const struct nft_ctx *ctx,
				     const struct nft_expr *expr)
{
	nf_ct_evq_netns_put(ctx->net);
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

static int nft_ctevent_sreg_dump(struct sk_buff *skb,
				 const struct nft_expr *expr, bool reset)
{
	const struct nft_ctevent *priv = nft_expr_priv(expr);

	if (nft_dump_register(skb, NFTA_CTEVENT_SREG_QNUM, priv->sreg_qnum) ||
	    nla_put_be16(skb, NFTA_CTEVENT_FLAGS, htons(priv->flags)))
		return -1;

	return 0;
}

static int nft_ctevent_validate(const struct nft_ctx *ctx,
				const struct nft_expr *expr)
{
	/* where conntrack runs; not the ingress hooks */
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
};

static const struct nft_expr_ops nft_ctevent_sreg_ops = {
	.type		= &nft_ctevent_type,
	.size		= NFT_EXPR_SIZE(sizeof(struct nft_ctevent)),
	.eval		= nft_ctevent_sreg_eval,
	.init		= nft_ctevent_sreg_init,
	.destroy	= nft_ctevent_sreg_destroy,
	.dump		= nft_ctevent_sreg_dump,
	.validate	= nft_ctevent_validate,
};

static const struct nft_expr_ops *
nft_ctevent_select_ops(const struct nft_ctx *ctx,
		       const struct nlattr * const tb[])
{
	if (!tb[NFTA_CTEVENT_SREG_QNUM])
		return &nft_ctevent_ops;

	if (tb[NFTA_CTEVENT_NUM] || tb[NFTA_CTEVENT_TOTAL])
		return ERR_PTR(-EINVAL);

	return &nft_ctevent_sreg_ops;
}

static struct nft_expr_type nft_ctevent_type __read_mostly = {
	.name		= "ctevent",
	.select_ops	= nft_ctevent_select_ops,
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
