:output;type filter hook output priority 0

*ip;test-ip4;output
*ip6;test-ip6;output
*inet;test-inet;output
*bridge;test-bridge;output

ct event queue 1;ok
ct event queue 0;ok
ct event queue 65535;ok
ct event queue 65536;fail
ct event queue 10-13;ok
ct event queue 10-10;ok;ct event queue 10
ct event queue 10-5;fail
ct event queue 65534-65536;fail
ct event queue 0-65535;fail
ct event queue 3 bypass;ok
ct event queue 10-13 bypass;ok
ct event queue 1 fanout;fail
ct event queue flags bypass to 3;fail
ct event queue bypass 3;fail
ct event queue oif;fail
ct event queue;fail
ct state established ct event queue 2;ok
ct event queue 1 counter;ok

ct event queue to symhash mod 4;ok
ct event queue to symhash mod 4 offset 10 bypass;ok
ct event queue to jhash ct mark mod 8;ok
ct event queue to numgen inc mod 2 offset 5;ok
ct event queue to meta mark;ok
ct event queue to ct mark bypass;ok
ct event queue to ct zone;ok
ct event queue to meta mark map { 0x1 : 1, 0x2 : 2 };ok;ct event queue to meta mark map { 0x00000001 : 1, 0x00000002 : 2 }
ct event queue to 7;ok;ct event queue 7
ct event queue to 10-13;ok;ct event queue 10-13
ct event queue to symhash mod 65537;fail
ct event queue to symhash mod 2 offset 65535;fail
ct event queue to meta mark map { 0x1 : 65536 };fail
ct event queue to ct state;fail
ct event queue to ct original proto-src;fail
ct event queue to oif;fail
ct event queue to;fail
