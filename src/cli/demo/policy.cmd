@echo off
rem rpcaudit demo: the intended policy for DEMO-DC01, written as KB908472 does, with mistakes
rem administrators really make. The allowed subnet is 127.0.0.0/24: the demo probes from 127.0.0.1, inside it, and from 127.0.1.1, outside.
rpccfg.exe -pe 5001-5021 -d 0
ipseccmd.exe -w REG -p "Block RPC Ports" -r "Block Inbound TCP 135 Rule" -f *=0:135:TCP -n BLOCK
ipseccmd.exe -w REG -p "Block RPC Ports" -r "Block Inbound TCP 5001 Rule" -f *=0:5001:TCP -n BLOCK
ipseccmd.exe -w REG -p "Block RPC Ports" -r "Block Inbound TCP 5002 Rule" -f *=0:5002:TCP -n BLOCK
ipseccmd.exe -w REG -p "Block RPC Ports" -r "Block Inbound TCP 5003 Rule" -f *=0:5003:TCP -n BLOCK
ipseccmd.exe -w REG -p "Block RPC Ports" -r "Block Inbound TCP 5004 Rule" -f *=0:5004:TCP -n BLOCK
ipseccmd.exe -w REG -p "Block RPC Ports" -r "Block Inbound TCP 5005 Rule" -f *=0:5005:TCP -n BLOCK
ipseccmd.exe -w REG -p "Block RPC Ports" -r "Block Inbound TCP 5006 Rule" -f *=0:5006:TCP -n BLOCK
ipseccmd.exe -w REG -p "Block RPC Ports" -r "Block Inbound TCP 5007 Rule" -f *=0:5007:TCP -n BLOCK
ipseccmd.exe -w REG -p "Block RPC Ports" -r "Block Inbound TCP 5008 Rule" -f *=0:5008:TCP -n BLOCK
ipseccmd.exe -w REG -p "Block RPC Ports" -r "Block Inbound TCP 5009 Rule" -f *=0:5009:TCP -n BLOCK
ipseccmd.exe -w REG -p "Block RPC Ports" -r "Block Inbound TCP 5010 Rule" -f *=0:5010:TCP -n BLOCK
ipseccmd.exe -w REG -p "Block RPC Ports" -r "Block Inbound TCP 5011 Rule" -f *=0:5011:TCP -n BLOCK
ipseccmd.exe -w REG -p "Block RPC Ports" -r "Block Inbound TCP 5012 Rule" -f *=0:5021:TCP -n BLOCK
ipseccmd.exe -w REG -p "Block RPC Ports" -r "Block Inbound TCP 5013 Rule" -f *=0:5013:TCP -n BLOCK
ipseccmd.exe -w REG -p "Block RPC Ports" -r "Block Inbound TCP 5014 Rule" -f *=0:5014:TCP -n BLOCK
ipseccmd.exe -w REG -p "Block RPC Ports" -r "Block Inbound TCP 5015 Rule" -f *=0:5015:TCP -n BLOCK
ipseccmd.exe -w REG -p "Block RPC Ports" -r "Block Inbound TCP 5016 Rule" -f *=0:5016:TCP -n BLOCK
ipseccmd.exe -w REG -p "Block RPC Ports" -r "Block Inbound TCP 5017 Rule" -f *=0:5017:TCP -n BLOCK
ipseccmd.exe -w REG -p "Block RPC Ports" -r "Block Inbound TCP 5018 Rule" -f *=0:5018:TCP -n BLOCK
ipseccmd.exe -w REG -p "Block RPC Ports" -r "Block Inbound TCP 5019 Rule" -f *=0:5019:TCP -n BLOCK
ipseccmd.exe -w REG -p "Block RPC Ports" -r "Block Inbound TCP 5020 Rule" -f *=0:5020:TCP -n BLOCK
ipseccmd.exe -w REG -p "Block RPC Ports" -r "Block Inbound TCP 5021 Rule" -f *=0:5021:TCP -n BLOCK
ipseccmd.exe -w REG -p "Block RPC Ports" -r "Allow Inbound TCP Port 135 from 127.0.0.0 Rule" -f 127.0.0.0/255.255.255.0=0:135:TCP -n PASS
ipseccmd.exe -w REG -p "Block RPC Ports" -r "Allow Inbound TCP Port 5001 from 127.0.0.0 Rule" -f 127.0.0.0/255.255.255.0=0:5001:TCP -n PASS
ipseccmd.exe -w REG -p "Block RPC Ports" -r "Allow Inbound TCP Port 5002 from 127.0.0.0 Rule" -f 127.0.0.0/255.255.255.0=0:5002:TCP -n PASS
ipseccmd.exe -w REG -p "Block RPC Ports" -r "Allow Inbound TCP Port 5003 from 127.0.0.0 Rule" -f 127.0.0.0/255.255.255.0=0:5003:TCP -n PASS
ipseccmd.exe -w REG -p "Block RPC Ports" -r "Allow Inbound TCP Port 5005 from 127.0.0.0 Rule" -f 127.0.0.0/255.255.255.0=0:5005:TCP -n PASS
ipseccmd.exe -w REG -p "Block RPC Ports" -r "Allow Inbound TCP Port 5006 from 127.0.0.0 Rule" -f 127.0.0.0/255.255.255.0=0:5006:TCP -n PASS
ipseccmd.exe -w REG -p "Block RPC Ports" -r "Allow Inbound TCP Port 5007 from 127.0.0.0 Rule" -f 127.0.0.0/255.255.255.0=0:5007:TCP -n PASS
ipseccmd.exe -w REG -p "Block RPC Ports" -r "Allow Inbound TCP Port 5008 from 127.0.0.0 Rule" -f 127.0.0.0/255.255.255.0=0:5008:TCP -n PASS
ipseccmd.exe -w REG -p "Block RPC Ports" -r "Allow Inbound TCP Port 5009 from 127.0.0.0 Rule" -f 127.0.0.0/255.255.255.0=0:5009:TCP -n PASS
ipseccmd.exe -w REG -p "Block RPC Ports" -r "Allow Inbound TCP Port 5010 from 127.0.0.0 Rule" -f 127.0.0.0/255.255.255.0=0:5010:TCP -n PASS
ipseccmd.exe -w REG -p "Block RPC Ports" -r "Allow Inbound TCP Port 5011 from 127.0.0.0 Rule" -f 127.0.0.0/255.255.255.0=0:5011:TCP -n PASS
ipseccmd.exe -w REG -p "Block RPC Ports" -r "Allow Inbound TCP Port 5012 from 127.0.0.0 Rule" -f 127.0.0.0/255.255.255.0=0:5012:TCP -n PASS
ipseccmd.exe -w REG -p "Block RPC Ports" -r "Allow Inbound TCP Port 5013 from 127.0.0.0 Rule" -f 127.0.0.0/255.255.255.0=0:5013:TCP -n PASS
ipseccmd.exe -w REG -p "Block RPC Ports" -r "Allow Inbound TCP Port 5014 from 127.0.0.0 Rule" -f 127.0.0.0/255.255.255.0=0:5014:TCP -n PASS
ipseccmd.exe -w REG -p "Block RPC Ports" -r "Allow Inbound TCP Port 5015 from 127.0.0.0 Rule" -f 127.0.0.0/255.255.255.0=0:5015:TCP -n PASS
ipseccmd.exe -w REG -p "Block RPC Ports" -r "Allow Inbound TCP Port 5016 from 127.0.0.0 Rule" -f 127.0.0.0/255.255.255.0=0:5016:TCP -n PASS
ipseccmd.exe -w REG -p "Block RPC Ports" -r "Allow Inbound TCP Port 5017 from 127.0.0.0 Rule" -f 127.0.0.0/255.255.255.0=0:5017:TCP -n PASS
ipseccmd.exe -w REG -p "Block RPC Ports" -r "Allow Inbound TCP Port 5018 from 127.0.0.0 Rule" -f 127.0.0.0/255.255.255.0=0:5018:TCP -n PASS
ipseccmd.exe -w REG -p "Block RPC Ports" -r "Allow Inbound TCP Port 5019 from 127.0.0.0 Rule" -f 127.0.0.0/255.255.255.0=0:5019:TCP -n PASS
ipseccmd.exe -w REG -p "Block RPC Ports" -r "Allow Inbound TCP Port 5020 from 127.0.0.0 Rule" -f 127.0.0.0/255.255.255.0=0:5020:TCP -n PASS
ipseccmd.exe -w REG -p "Block RPC Ports" -r "Allow Inbound TCP Port 5021 from 127.0.0.0 Rule" -f 127.0.0.0/255.255.255.0=0:5021:TCP -n PASS
ipseccmd.exe -w REG -p "Block RPC Ports" -x
