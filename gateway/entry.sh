#!/bin/sh
# With UDEV=1 (the default in the image): a fresh devtmpfs so USB devices plugged in after start
# appear, and udevd so /dev/serial/by-id/… names the RS-485 adapter and the modem's ports whatever
# order USB enumerated them in (the container is privileged). Then the gateway.
set -eu
if [ "${UDEV:-0}" = 1 ] || [ "${UDEV:-0}" = on ]; then
  if mount -t devtmpfs none /dev 2>/dev/null; then
    mkdir -p /dev/pts /dev/shm
    mount -t devpts devpts /dev/pts 2>/dev/null || true
    mount -t tmpfs shm /dev/shm 2>/dev/null || true
  fi
  /lib/systemd/systemd-udevd --daemon
  udevadm trigger --action=add
  udevadm settle --timeout=10 || echo "entry: udev did not settle in 10 s; serial by-id links may be missing" >&2
fi
exec "$@"
