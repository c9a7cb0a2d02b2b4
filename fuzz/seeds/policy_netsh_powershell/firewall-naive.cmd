@echo off
rem The article's IPsec policy translated rule for rule to Windows Firewall.
netsh advfirewall firewall add rule name="Block RPC 135,5001-5021" dir=in action=block protocol=TCP localport=135,5001-5021 remoteip=any
netsh advfirewall firewall add rule name="Allow RPC 135,5001-5021 from 10.1.1.0" dir=in action=allow protocol=TCP localport=135,5001-5021 remoteip=10.1.1.0/255.255.255.0
