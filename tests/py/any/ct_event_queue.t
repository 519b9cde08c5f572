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
