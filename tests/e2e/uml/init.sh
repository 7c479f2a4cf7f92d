#!/bin/sh
# PID 1 of the User-Mode-Linux guest that plays the independent Linux GRE router.
# The guest's root is the host's / through hostfs, read-only. Words VAR=value on the UML
# command line arrive here as environment variables:
#   ROLE=<script in this directory>   what to do once the guest is up (sourced)
#   CTL=<host directory>              the host creates $CTL/stop to power the guest off
# Everything printed here goes to the host (con0 = the UML process's stdout).
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
# Read the role script before the mounts below: the checkout may itself live under /tmp (a CI
# clone often does), which the guest-private tmpfs would hide.
ROLE_SCRIPT=$(cat "$(dirname "$0")/$ROLE") || { echo "UML-ERROR cannot read role $ROLE"; echo o > /proc/sysrq-trigger; sleep 10; }
# The same for the helpers a role runs later (tests/e2e/*.py): a guest-private copy in E2E_DIR.
mount -t tmpfs e2e /mnt && cp -r "$(dirname "$0")/.." /mnt/e2e
E2E_DIR=/mnt/e2e
mount -t tmpfs tmp /tmp          # guest-private; hides the host's /tmp inside the guest only
mount -t tmpfs run /run
# The UML kernel's modules live in /usr/lib/uml/modules/<ver>; modprobe -d wants <d>/lib/modules/<ver>.
# The kernel's own request_module() (crypto templates, gre demux...) must use the same wrapper.
mkdir -p /tmp/m/lib/modules
ln -s "/usr/lib/uml/modules/$(uname -r)" "/tmp/m/lib/modules/$(uname -r)"
printf '#!/bin/sh\nexec /usr/sbin/modprobe -d /tmp/m "$@"\n' > /tmp/modprobe
chmod +x /tmp/modprobe
echo /tmp/modprobe > /proc/sys/kernel/modprobe
modprobe() { /tmp/modprobe "$@"; }
ip link set lo up
echo "UML $(uname -r) up, role=$ROLE"
eval "$ROLE_SCRIPT"
echo "UML-DONE"
echo o > /proc/sysrq-trigger     # power off
sleep 10
