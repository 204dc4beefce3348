#!/bin/bash
# gen-seed-agent-cmdline.sh DIR: seeds for the agent's command line fuzzer —
# a capture and a deploy of every source and target kind, and the pieces.
set -euo pipefail
dir=$1
mkdir -p "$dir"
n=0
seed () { n=$((n + 1)); printf '%s' "$1" > "$dir/seed-$n"; }
seed 'BOOT_IMAGE=/live/vmlinuz boot=live quiet ferry.disks=sda,/dev/sdb ferry.target=nfs:10.0.0.5:2049:/srv/p2v ferry.format=vmdk ferry.convert=kvm "ferry.name=web-1" ferry.cpus=4 ferry.memory=2048 ferry.ip=10.0.0.9/24,gw=10.0.0.1,dns=10.0.0.2 ferry.nic=eth1 ferry.post=shell ferry.console=ttyS0 ferry.yes'
seed 'ferry.mode=deploy ferry.source=nfs:10.0.0.5:/images/web1.qcow2 ferry.disks=nvme0n1 ferry.post=reboot ferry.yes'
seed 'ferry.mode=deploy ferry.source=ssh://root@10.0.2.2:2222/srv/img/vm.ova ferry.sshkey=/run/ferry/id ferry.disks=sda,sdb ferry.yes'
seed 'ferry.mode=deploy ferry.source=cifs://me@host:445/share/dir/vm.vhd ferry.password=x ferry.disks=sda'
seed 'ferry.mode=deploy ferry.source=https://host:8443/a/disk.raw?x=1 ferry.disks=sda ferry.yes'
seed 'ferry.mode=deploy ferry.source=file:/mnt/usb/ ferry.disks=sda'
seed 'ferry.target=cifs://u@h:1445/share/sub ferry.yes'
seed 'ssh://u@h/d/..'
seed 'nfs:h:/e/x,y.img'
seed '10.0.0.9/24,gw=10.0.0.1'
