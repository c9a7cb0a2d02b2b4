@echo off
rpccfg.exe -pe 5001-5021 -d 0
netsh ipsec static add policy name="Block RPC Ports" description="KB908472" assign=no
netsh ipsec static add filteraction name="Block" action=block
netsh ipsec static add filteraction name="Permit" action=permit
netsh ipsec static add filterlist name="RPC ports"
netsh ipsec static add filterlist name="RPC ports from 10.1.1.0"
netsh ipsec static add filter filterlist="RPC ports" srcaddr=any dstaddr=me protocol=TCP dstport=135
netsh ipsec static add filter filterlist="RPC ports from 10.1.1.0" srcaddr=10.1.1.0 srcmask=255.255.255.0 dstaddr=me protocol=TCP dstport=135
netsh ipsec static add filter filterlist="RPC ports" srcaddr=any dstaddr=me protocol=TCP dstport=5001
netsh ipsec static add filter filterlist="RPC ports from 10.1.1.0" srcaddr=10.1.1.0 srcmask=255.255.255.0 dstaddr=me protocol=TCP dstport=5001
netsh ipsec static add filter filterlist="RPC ports" srcaddr=any dstaddr=me protocol=TCP dstport=5002
netsh ipsec static add filter filterlist="RPC ports from 10.1.1.0" srcaddr=10.1.1.0 srcmask=255.255.255.0 dstaddr=me protocol=TCP dstport=5002
netsh ipsec static add filter filterlist="RPC ports" srcaddr=any dstaddr=me protocol=TCP dstport=5003
netsh ipsec static add filter filterlist="RPC ports from 10.1.1.0" srcaddr=10.1.1.0 srcmask=255.255.255.0 dstaddr=me protocol=TCP dstport=5003
netsh ipsec static add filter filterlist="RPC ports" srcaddr=any dstaddr=me protocol=TCP dstport=5004
netsh ipsec static add filter filterlist="RPC ports from 10.1.1.0" srcaddr=10.1.1.0 srcmask=255.255.255.0 dstaddr=me protocol=TCP dstport=5004
netsh ipsec static add filter filterlist="RPC ports" srcaddr=any dstaddr=me protocol=TCP dstport=5005
netsh ipsec static add filter filterlist="RPC ports from 10.1.1.0" srcaddr=10.1.1.0 srcmask=255.255.255.0 dstaddr=me protocol=TCP dstport=5005
netsh ipsec static add filter filterlist="RPC ports" srcaddr=any dstaddr=me protocol=TCP dstport=5006
netsh ipsec static add filter filterlist="RPC ports from 10.1.1.0" srcaddr=10.1.1.0 srcmask=255.255.255.0 dstaddr=me protocol=TCP dstport=5006
netsh ipsec static add filter filterlist="RPC ports" srcaddr=any dstaddr=me protocol=TCP dstport=5007
netsh ipsec static add filter filterlist="RPC ports from 10.1.1.0" srcaddr=10.1.1.0 srcmask=255.255.255.0 dstaddr=me protocol=TCP dstport=5007
netsh ipsec static add filter filterlist="RPC ports" srcaddr=any dstaddr=me protocol=TCP dstport=5008
netsh ipsec static add filter filterlist="RPC ports from 10.1.1.0" srcaddr=10.1.1.0 srcmask=255.255.255.0 dstaddr=me protocol=TCP dstport=5008
netsh ipsec static add filter filterlist="RPC ports" srcaddr=any dstaddr=me protocol=TCP dstport=5009
netsh ipsec static add filter filterlist="RPC ports from 10.1.1.0" srcaddr=10.1.1.0 srcmask=255.255.255.0 dstaddr=me protocol=TCP dstport=5009
netsh ipsec static add filter filterlist="RPC ports" srcaddr=any dstaddr=me protocol=TCP dstport=5010
netsh ipsec static add filter filterlist="RPC ports from 10.1.1.0" srcaddr=10.1.1.0 srcmask=255.255.255.0 dstaddr=me protocol=TCP dstport=5010
netsh ipsec static add filter filterlist="RPC ports" srcaddr=any dstaddr=me protocol=TCP dstport=5011
netsh ipsec static add filter filterlist="RPC ports from 10.1.1.0" srcaddr=10.1.1.0 srcmask=255.255.255.0 dstaddr=me protocol=TCP dstport=5011
netsh ipsec static add filter filterlist="RPC ports" srcaddr=any dstaddr=me protocol=TCP dstport=5012
netsh ipsec static add filter filterlist="RPC ports from 10.1.1.0" srcaddr=10.1.1.0 srcmask=255.255.255.0 dstaddr=me protocol=TCP dstport=5012
netsh ipsec static add filter filterlist="RPC ports" srcaddr=any dstaddr=me protocol=TCP dstport=5013
netsh ipsec static add filter filterlist="RPC ports from 10.1.1.0" srcaddr=10.1.1.0 srcmask=255.255.255.0 dstaddr=me protocol=TCP dstport=5013
netsh ipsec static add filter filterlist="RPC ports" srcaddr=any dstaddr=me protocol=TCP dstport=5014
netsh ipsec static add filter filterlist="RPC ports from 10.1.1.0" srcaddr=10.1.1.0 srcmask=255.255.255.0 dstaddr=me protocol=TCP dstport=5014
netsh ipsec static add filter filterlist="RPC ports" srcaddr=any dstaddr=me protocol=TCP dstport=5015
netsh ipsec static add filter filterlist="RPC ports from 10.1.1.0" srcaddr=10.1.1.0 srcmask=255.255.255.0 dstaddr=me protocol=TCP dstport=5015
netsh ipsec static add filter filterlist="RPC ports" srcaddr=any dstaddr=me protocol=TCP dstport=5016
netsh ipsec static add filter filterlist="RPC ports from 10.1.1.0" srcaddr=10.1.1.0 srcmask=255.255.255.0 dstaddr=me protocol=TCP dstport=5016
netsh ipsec static add filter filterlist="RPC ports" srcaddr=any dstaddr=me protocol=TCP dstport=5017
netsh ipsec static add filter filterlist="RPC ports from 10.1.1.0" srcaddr=10.1.1.0 srcmask=255.255.255.0 dstaddr=me protocol=TCP dstport=5017
netsh ipsec static add filter filterlist="RPC ports" srcaddr=any dstaddr=me protocol=TCP dstport=5018
netsh ipsec static add filter filterlist="RPC ports from 10.1.1.0" srcaddr=10.1.1.0 srcmask=255.255.255.0 dstaddr=me protocol=TCP dstport=5018
netsh ipsec static add filter filterlist="RPC ports" srcaddr=any dstaddr=me protocol=TCP dstport=5019
netsh ipsec static add filter filterlist="RPC ports from 10.1.1.0" srcaddr=10.1.1.0 srcmask=255.255.255.0 dstaddr=me protocol=TCP dstport=5019
netsh ipsec static add filter filterlist="RPC ports" srcaddr=any dstaddr=me protocol=TCP dstport=5020
netsh ipsec static add filter filterlist="RPC ports from 10.1.1.0" srcaddr=10.1.1.0 srcmask=255.255.255.0 dstaddr=me protocol=TCP dstport=5020
netsh ipsec static add filter filterlist="RPC ports" srcaddr=any dstaddr=me protocol=TCP dstport=5021
netsh ipsec static add filter filterlist="RPC ports from 10.1.1.0" srcaddr=10.1.1.0 srcmask=255.255.255.0 dstaddr=me protocol=TCP dstport=5021
netsh ipsec static add rule name="Block RPC" policy="Block RPC Ports" filterlist="RPC ports" filteraction="Block"
netsh ipsec static add rule name="Allow RPC from 10.1.1.0" policy="Block RPC Ports" filterlist="RPC ports from 10.1.1.0" filteraction="Permit"
netsh ipsec static set policy name="Block RPC Ports" assign=yes
