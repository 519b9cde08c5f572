. "$(dirname "${BASH_SOURCE[0]}")/../kernel/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/../kernel/ctevq.sh"
ip netns add nb
t0=$(date +%s%N)
rule nb add table inet x ';' add chain inet x c postrouting 0 ';' add rule inet x c ctevent raw num=0,total=65535
t1=$(date +%s%N)
echo "add 65535: $(( (t1 - t0) / 1000000 )) ms, $(evq_proc nb | wc -l) queues"
t0=$(date +%s%N)
rule nb delete table inet x
until [ -z "$(evq_proc nb)" ]; do sleep 0.05; done
t1=$(date +%s%N)
echo "delete 65535: $(( (t1 - t0) / 1000000 )) ms"
t0=$(date +%s%N)
rule nb add table inet x ';' add chain inet x c postrouting 0 ';' add rule inet x c ctevent raw num=0,total=4096
t1=$(date +%s%N)
echo "add 4096: $(( (t1 - t0) / 1000000 )) ms"
grep -i "percpu\|Slab" /proc/meminfo
