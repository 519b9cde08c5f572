:postrouting;type filter hook postrouting priority 0

*ip;test-ip4;postrouting
*inet;test-inet;postrouting

ct event queue to ip saddr map { 192.0.2.0/26 : 1, 192.0.2.64/26 : 2, 192.0.2.128/26 : 3 };ok
ct event queue to ip saddr map { 192.0.2.0/26 : 1, 192.0.2.64/26 : 2 } bypass;ok
ct event queue to jhash ip saddr . ip daddr mod 4 offset 1;ok
